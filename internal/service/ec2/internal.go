package ec2

import (
	"net/http"

	"github.com/iamlocal/iamlocal/internal/service"
)

// ServeInternal answers iamlocal's own loopback API for the instance metadata service
// (`iamlocal imds`): an instance's metadata and its role credentials. The contract is
// in docs/imds.md.
func ServeInternal(env *service.Env, w http.ResponseWriter, r *http.Request) {
	http.Error(w, `{"Code":"NotImplemented","Message":"not implemented yet"}`, http.StatusNotImplemented)
}
