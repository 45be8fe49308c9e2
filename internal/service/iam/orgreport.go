package iam

import (
	"errors"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/awsdata"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/lastaccess"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// The Organizations access report: for an organization root, OU or account (and
// optionally one SCP), the services the SCPs there allow and the last attempt of the
// principals of the accounts below, from the same last-accessed data as IAM's reports.

func init() {
	register(
		&service.Action{Name: "GenerateOrganizationsAccessReport", IAMAction: "iam:GenerateOrganizationsAccessReport", Write: true,
			Resource: accessReportResource, Context: orgPolicyIDContext, Handle: generateOrganizationsAccessReport},
		&service.Action{Name: "GetOrganizationsAccessReport", IAMAction: "iam:GetOrganizationsAccessReport", Handle: getOrganizationsAccessReport},
	)
}

// kindOrgAccessJob holds Organizations access report jobs; key "<account>/<job id>".
const kindOrgAccessJob = "iamorgaccessjob"

var (
	entityPathPattern  = regexp.MustCompile(`^o-[0-9a-z]{10,32}/r-[0-9a-z]{4,32}[0-9a-z-/]*$`)
	orgPolicyIDPattern = regexp.MustCompile(`^p-[0-9a-zA-Z_]{8,128}$`)
)

// accessReportResource: arn:aws:iam::ACCOUNT:access-report/ENTITYPATH.
func accessReportResource(c *service.Call) (string, string, error) {
	p, err := required(c, "EntityPath")
	if err != nil {
		return "", "", err
	}
	return "arn:aws:iam::" + c.Account() + ":access-report/" + p, c.Account(), nil
}

// orgPolicyIDContext adds iam:OrganizationsPolicyId.
func orgPolicyIDContext(c *service.Call, ctx policy.Context) error {
	if id := c.Params.Get("OrganizationsPolicyId"); id != "" {
		ctx.Set("iam:OrganizationsPolicyId", id)
	}
	return nil
}

type orgAccessJob struct {
	ID       string
	Created  time.Time
	Services []orgService
}

type orgService struct {
	Namespace, Name string
	Time            time.Time `json:",omitempty"`
	Region          string    `json:",omitempty"`
	EntityPath      string    `json:",omitempty"`
	Total           int
}

// orgTarget is a parsed entity path.
type orgTarget struct {
	org     *directory.Organization
	path    string   // normalized: no trailing slash
	chain   []string // root, OUs (and the account) the path names
	account string   // the account the path ends in, if any
}

func parseEntityPath(c *service.Call, org *directory.Organization, p string) (*orgTarget, error) {
	bad := invalidInput("The entity path %s is not valid.", p)
	parts := strings.Split(strings.TrimSuffix(p, "/"), "/")
	if len(parts) < 2 || parts[0] != org.ID || parts[1] != org.RootID {
		return nil, bad
	}
	t := &orgTarget{org: org, path: strings.Join(parts, "/"), chain: []string{org.RootID}}
	parent := org.RootID
	for i, id := range parts[2:] {
		if isAccountID(id) && i == len(parts)-3 {
			var a directory.Account
			if err := c.Tx.Get(directory.KindAccount, id, &a); err != nil || a.ParentID != parent {
				return nil, bad
			}
			t.account = id
			t.chain = append(t.chain, id)
			return t, nil
		}
		var ou directory.OU
		if err := c.Tx.Get(directory.KindOU, id, &ou); err != nil || ou.ParentID != parent {
			return nil, bad
		}
		t.chain = append(t.chain, id)
		parent = id
	}
	return t, nil
}

// scpsAt lists the SCPs attached to a root, OU or account.
func scpsAt(c *service.Call, target string) ([]directory.OrgPolicy, error) {
	var out []directory.OrgPolicy
	err := c.Tx.Scan(directory.KindOrgAttachment, target+"/", "", 0, func(key string, _ []byte) (bool, error) {
		var op directory.OrgPolicy
		if err := c.Tx.Get(directory.KindOrgPolicy, strings.TrimPrefix(key, target+"/"), &op); err != nil {
			return false, err
		}
		if op.Type == "SERVICE_CONTROL_POLICY" {
			out = append(out, op)
		}
		return true, nil
	})
	return out, err
}

func scpGrants(c *service.Call, ps []directory.OrgPolicy) []grant {
	var gs []grant
	for _, op := range ps {
		if doc, err := c.Env.Resolver.Policies.Compile(op.Content, policy.SCP); err == nil {
			gs = append(gs, grant{Name: op.Name, doc: doc})
		}
	}
	return gs
}

func generateOrganizationsAccessReport(c *service.Call) (any, error) {
	in := newInput(c)
	p, ok := in.required("EntityPath")
	if ok {
		in.v.Length(p, "entityPath", 19, 427)
		in.v.Check(entityPathPattern.MatchString(p), p, "entityPath", `satisfy regular expression pattern: ^o-[0-9a-z]{10,32}\/r-[0-9a-z]{4,32}[0-9a-z-\/]*`)
	}
	pid := c.Params.Get("OrganizationsPolicyId")
	if c.Params.Has("OrganizationsPolicyId") {
		in.v.Check(orgPolicyIDPattern.MatchString(pid), pid, "organizationsPolicyId", `satisfy regular expression pattern: ^p-[0-9a-zA-Z_]{8,128}$`)
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	org, err := loadOrgForReport(c)
	if err != nil {
		return nil, err
	}
	t, err := parseEntityPath(c, org, p)
	if err != nil {
		return nil, err
	}
	mgmt := t.account == org.MasterAccountID
	if mgmt {
		pid = "" // "If you specify a policy ID in the CLI or API, the policy is ignored."
	}
	var policyDoc *directory.OrgPolicy
	if pid != "" {
		var op directory.OrgPolicy
		err := c.Tx.Get(directory.KindOrgPolicy, pid, &op)
		if errors.Is(err, store.ErrNotFound) || (err == nil && op.Type != "SERVICE_CONTROL_POLICY") {
			return nil, noSuchEntity("The policy with id %s cannot be found.", pid)
		}
		if err != nil {
			return nil, err
		}
		policyDoc = &op
	}
	// The services listed: all for the management account; those the given SCP
	// allows; else those every level of the path allows.
	var services []string
	switch {
	case mgmt:
		services = awsdata.ServicePrefixes()
	case policyDoc != nil:
		services = allowedServices(scpGrants(c, []directory.OrgPolicy{*policyDoc}))
	default:
		for i, target := range t.chain {
			ps, err := scpsAt(c, target)
			if err != nil {
				return nil, err
			}
			level := allowedServices(scpGrants(c, ps))
			if i == 0 {
				services = level
			} else {
				services = intersect(services, level)
			}
		}
	}
	accounts, err := reportAccounts(c, t, mgmt, pid)
	if err != nil {
		return nil, err
	}
	type agg struct {
		use   lastaccess.Use
		path  string
		total int
	}
	data := map[string]*agg{}
	for acct, path := range accounts {
		err := c.Tx.Scan(lastaccess.Kind, acct+"/", "", 0, func(_ string, raw []byte) (bool, error) {
			var e lastaccess.Entity
			if err := jsonUnmarshal(raw, &e); err != nil {
				return false, err
			}
			for ns, u := range e.Services {
				a := data[ns]
				if a == nil {
					a = &agg{}
					data[ns] = a
				}
				a.total++
				if u.Time.After(a.use.Time) {
					a.use.Time, a.use.Region, a.path = u.Time, u.Region, path
				}
			}
			return true, nil
		})
		if err != nil {
			return nil, err
		}
	}
	job := &orgAccessJob{ID: newJobID(), Created: c.Now.UTC()}
	for _, ns := range services {
		name, _ := awsdata.Service(ns)
		s := orgService{Namespace: ns, Name: name}
		if a := data[ns]; a != nil {
			s.Time, s.Region, s.EntityPath, s.Total = a.use.Time, a.use.Region, a.path, a.total
		}
		job.Services = append(job.Services, s)
	}
	if err := c.Tx.Put(kindOrgAccessJob, c.Account()+"/"+job.ID, job); err != nil {
		return nil, err
	}
	return &jobIDResult{job.ID}, nil
}

// loadOrgForReport: only the management account of an organization whose root has
// SCPs enabled may ask for these reports.
func loadOrgForReport(c *service.Call) (*directory.Organization, error) {
	var org directory.Organization
	err := c.Tx.Get(directory.KindOrganization, "org", &org)
	if errors.Is(err, store.ErrNotFound) || (err == nil && org.MasterAccountID != c.Account()) {
		return nil, wire.Errorf(http.StatusForbidden, "AccessDenied",
			"Organizations access reports can be generated only by the management account of an organization.")
	}
	if err != nil {
		return nil, err
	}
	for _, typ := range org.EnabledPolicyType {
		if typ == "SERVICE_CONTROL_POLICY" {
			return &org, nil
		}
	}
	return nil, invalidInput("Service control policies must be enabled for the organization root.")
}

// reportAccounts maps the accounts whose activity a report counts to their entity
// paths: the accounts under the target, without the management account unless it
// is the target; with a policy id, only those the policy applies to.
func reportAccounts(c *service.Call, t *orgTarget, mgmt bool, pid string) (map[string]string, error) {
	out := map[string]string{}
	if mgmt {
		out[t.account] = t.path
		return out, nil
	}
	var ids []string
	err := c.Tx.Scan(directory.KindAccount, "", "", 0, func(id string, data []byte) (bool, error) {
		var a directory.Account
		if err := jsonUnmarshal(data, &a); err != nil {
			return false, err
		}
		if a.ParentID != "" && id != t.org.MasterAccountID {
			ids = append(ids, id)
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		_, _, path, _, err := c.Env.Resolver.OrgLevels(c.Tx, id, "SERVICE_CONTROL_POLICY", policy.SCP)
		if err != nil {
			return nil, err
		}
		full := path + id
		if full != t.path && !strings.HasPrefix(full, t.path+"/") {
			continue
		}
		if pid != "" && !policyApplies(c, full, pid) {
			continue
		}
		out[id] = full
	}
	return out, nil
}

// policyApplies reports whether an SCP is attached along an account's path.
func policyApplies(c *service.Call, path, pid string) bool {
	for _, target := range strings.Split(path, "/")[1:] {
		var x any
		if err := c.Tx.Get(directory.KindOrgAttachment, target+"/"+pid, &x); err == nil {
			return true
		}
	}
	return false
}

func intersect(a, b []string) []string {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if in[s] {
			out = append(out, s)
		}
	}
	return out
}

type accessDetailXML struct {
	ServiceName                string `xml:"ServiceName"`
	ServiceNamespace           string `xml:"ServiceNamespace"`
	Region                     string `xml:"Region,omitempty"`
	EntityPath                 string `xml:"EntityPath,omitempty"`
	LastAuthenticatedTime      string `xml:"LastAuthenticatedTime,omitempty"`
	TotalAuthenticatedEntities int    `xml:"TotalAuthenticatedEntities"`
}

type getOrgAccessReportResult struct {
	JobStatus                   string                `xml:"JobStatus"`
	JobCreationDate             string                `xml:"JobCreationDate"`
	JobCompletionDate           string                `xml:"JobCompletionDate"`
	NumberOfServicesAccessible  int                   `xml:"NumberOfServicesAccessible"`
	NumberOfServicesNotAccessed int                   `xml:"NumberOfServicesNotAccessed"`
	AccessDetails               list[accessDetailXML] `xml:"AccessDetails"`
	IsTruncated                 bool                  `xml:"IsTruncated"`
	Marker                      string                `xml:"Marker,omitempty"`
}

func getOrganizationsAccessReport(c *service.Call) (any, error) {
	in := newInput(c)
	id := jobParams(in)
	sortKey := in.enum("SortKey", "SERVICE_NAMESPACE_ASCENDING", "SERVICE_NAMESPACE_DESCENDING",
		"LAST_AUTHENTICATED_TIME_ASCENDING", "LAST_AUTHENTICATED_TIME_DESCENDING")
	if err := in.err(); err != nil {
		return nil, err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	var job orgAccessJob
	err = c.Tx.Get(kindOrgAccessJob, c.Account()+"/"+id, &job)
	if errors.Is(err, store.ErrNotFound) {
		return nil, noSuchEntity("Job with id %s not found.", id)
	}
	if err != nil {
		return nil, err
	}
	svcs := job.Services
	switch sortKey {
	case "SERVICE_NAMESPACE_DESCENDING":
		sort.SliceStable(svcs, func(i, j int) bool { return svcs[i].Namespace > svcs[j].Namespace })
	case "LAST_AUTHENTICATED_TIME_ASCENDING":
		sort.SliceStable(svcs, func(i, j int) bool { return svcs[i].Time.Before(svcs[j].Time) })
	case "LAST_AUTHENTICATED_TIME_DESCENDING":
		sort.SliceStable(svcs, func(i, j int) bool { return svcs[i].Time.After(svcs[j].Time) })
	}
	start, end, truncated, marker, err := slicePage(len(svcs), p)
	if err != nil {
		return nil, err
	}
	res := &getOrgAccessReportResult{JobStatus: "COMPLETED", JobCreationDate: isoTime(job.Created), JobCompletionDate: isoTime(job.Created),
		NumberOfServicesAccessible: len(svcs), IsTruncated: truncated, Marker: marker}
	for _, s := range svcs {
		if s.Time.IsZero() {
			res.NumberOfServicesNotAccessed++
		}
	}
	res.AccessDetails.Member = []accessDetailXML{}
	for _, s := range svcs[start:end] {
		x := accessDetailXML{ServiceName: s.Name, ServiceNamespace: s.Namespace, TotalAuthenticatedEntities: s.Total}
		if !s.Time.IsZero() {
			x.Region, x.EntityPath, x.LastAuthenticatedTime = s.Region, s.EntityPath, isoTime(s.Time)
		}
		res.AccessDetails.Member = append(res.AccessDetails.Member, x)
	}
	return res, nil
}
