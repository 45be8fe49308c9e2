// Command bareserver answers every request with a fixed AssumeRole response: the
// ceiling any STS implementation on this machine can reach, for bench/run.sh.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
)

const response = `<?xml version="1.0" encoding="UTF-8"?>
<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAEXAMPLEEXAMPLE00</AccessKeyId><SecretAccessKey>secretsecretsecretsecretsecretsecret0000</SecretAccessKey><SessionToken>IQoJexampletoken</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROAEXAMPLEEXAMPLE000:bench</AssumedRoleId><Arn>arn:aws:sts::111111111111:assumed-role/bench/bench</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata></AssumeRoleResponse>`

func main() {
	addr := flag.String("addr", "127.0.0.1:4599", "listen address")
	flag.Parse()
	log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, response)
	})))
}
