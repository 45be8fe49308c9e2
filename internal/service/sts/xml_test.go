package sts

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/iamlocal/iamlocal/internal/wire"
)

// TestFastXMLMatchesEncoding: the hand-written XML of hot results is exactly what
// encoding/xml would write.
func TestFastXMLMatchesEncoding(t *testing.T) {
	size := 7
	results := []wire.XMLFields{
		&callerIdentity{UserID: "AROA1:s<&>", Account: "111111111111", Arn: "arn:aws:sts::111111111111:assumed-role/r/s"},
		&assumeRoleResult{Credentials: credentials{"ASIA1", "sec/+", "IQoJtok", "2026-01-01T00:00:00Z"},
			AssumedRoleUser: assumedRoleUser{"AROA1:s", "arn:aws:sts::1:assumed-role/r/s"}, PackedPolicySize: &size, SourceIdentity: "a&b"},
		&assumeRoleResult{Credentials: credentials{"ASIA1", "sec", "tok", "exp"}, AssumedRoleUser: assumedRoleUser{"id", "arn"}},
	}
	for _, r := range results {
		var fast strings.Builder
		fast.WriteString("<R>")
		r.WriteXMLFields(&fast)
		fast.WriteString("</R>")
		var slow strings.Builder
		if err := xml.NewEncoder(&slow).EncodeElement(r, xml.StartElement{Name: xml.Name{Local: "R"}}); err != nil {
			t.Fatal(err)
		}
		if fast.String() != slow.String() {
			t.Errorf("fast  %s\nslow  %s", fast.String(), slow.String())
		}
	}
}
