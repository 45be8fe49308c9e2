package authz

import "testing"

func TestReason(t *testing.T) {
	tests := []struct {
		outcome Outcome
		blocked []Layer
		want    string
	}{
		{Allowed, nil, ""},
		{ImplicitDeny, []Layer{Identity}, " because no identity-based policy allows the s3:GetObject action"},
		{ImplicitDeny, []Layer{Identity, PermissionsBoundary}, " because no identity-based policy allows the s3:GetObject action"},
		{ImplicitDeny, []Layer{PermissionsBoundary}, " because no permissions boundary allows the s3:GetObject action"},
		{ImplicitDeny, []Layer{Session}, " because no session policy allows the s3:GetObject action"},
		{ImplicitDeny, []Layer{Resource, Identity}, " because no resource-based policy allows the s3:GetObject action"},
		{ImplicitDeny, []Layer{Endpoint}, " because no VPC endpoint policy allows the s3:GetObject action"},
		{ImplicitDeny, []Layer{SCP, Identity}, " with an explicit deny in a service control policy"},
		{ImplicitDeny, []Layer{RCP}, " with an explicit deny in a resource control policy"},
		{ExplicitDeny, []Layer{Identity}, " with an explicit deny in an identity-based policy"},
		{ExplicitDeny, []Layer{Resource, Session}, " with an explicit deny in a resource-based policy"},
		{ExplicitDeny, []Layer{PermissionsBoundary}, " with an explicit deny in a permissions boundary"},
	}
	for _, tt := range tests {
		d := Decision{Outcome: tt.outcome}
		for _, l := range tt.blocked {
			d.BlockedBy.add(l)
		}
		if got := d.Reason("s3:GetObject"); got != tt.want {
			t.Errorf("%s %v: %q, want %q", tt.outcome, tt.blocked, got, tt.want)
		}
	}
}

func TestLayerNamesRoundTrip(t *testing.T) {
	for l := Layer(0); l < numLayers; l++ {
		if got, ok := ParseLayer(l.String()); !ok || got != l {
			t.Errorf("ParseLayer(%q) = %v, %v", l.String(), got, ok)
		}
	}
	if _, ok := ParseLayer("bogus"); ok {
		t.Error("ParseLayer accepted bogus")
	}
}
