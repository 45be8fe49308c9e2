package iam

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
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

// Service last accessed data (access advisor): reports computed from the
// last-accessed data the server keeps from real decisions (internal/lastaccess).
// A job completes when it is generated: its report is a snapshot, stored under
// the job id, of the data at that moment.

func init() {
	register(
		&service.Action{Name: "GenerateServiceLastAccessedDetails", IAMAction: "iam:GenerateServiceLastAccessedDetails", Write: true,
			Resource: arnParamResource, Handle: generateServiceLastAccessedDetails},
		&service.Action{Name: "GetServiceLastAccessedDetails", IAMAction: "iam:GetServiceLastAccessedDetails",
			Handle: getServiceLastAccessedDetails},
		&service.Action{Name: "GetServiceLastAccessedDetailsWithEntities", IAMAction: "iam:GetServiceLastAccessedDetailsWithEntities",
			Handle: getServiceLastAccessedDetailsWithEntities},
		&service.Action{Name: "ListPoliciesGrantingServiceAccess", IAMAction: "iam:ListPoliciesGrantingServiceAccess",
			Resource: arnParamResource, Handle: listPoliciesGrantingServiceAccess},
	)
}

// kindAccessJob holds service last accessed jobs; key "<account>/<job id>".
const kindAccessJob = "iamaccessjob"

// arnParamResource authorizes on the entity the Arn parameter names, in its account.
func arnParamResource(c *service.Call) (string, string, error) {
	a, err := required(c, "Arn")
	if err != nil {
		return "", "", err
	}
	if parts := strings.SplitN(a, ":", 6); len(parts) == 6 && isAccountID(parts[4]) {
		return a, parts[4], nil
	}
	return a, c.Account(), nil
}

// grant is one permissions policy of a report's target.
type grant struct {
	Name       string // policy name
	Type       string // INLINE, MANAGED
	Arn        string // managed policies
	EntityType string // inline policies: USER, GROUP, ROLE
	EntityName string
	doc        *policy.Policy
}

// member is an entity whose activity a report counts.
type member struct {
	Arn, Name, Type, ID, Path string
}

// target is what a report is about: the policies that grant its permissions and the
// entities that use them.
type target struct {
	kind     string // user, group, role, policy
	grants   []grant
	entities []member
}

// parseEntityArn splits arn:aws:iam::ACCOUNT:KIND/PATH/NAME.
func parseEntityArn(a string) (account, kind, name string, ok bool) {
	parts := strings.SplitN(a, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" {
		return "", "", "", false
	}
	res := parts[5]
	kind, rest, found := strings.Cut(res, "/")
	if !found || rest == "" {
		return "", "", "", false
	}
	return parts[4], kind, rest[strings.LastIndex(rest, "/")+1:], true
}

// resolveTarget reads a user, group, role or managed policy by ARN with its policies
// and the entities whose activity counts; kinds lists the kinds the caller accepts.
func resolveTarget(c *service.Call, a string, kinds ...string) (*target, error) {
	account, kind, name, ok := parseEntityArn(a)
	if !ok || !slices.Contains(kinds, kind) {
		return nil, invalidInput("ARN %s is not valid.", a)
	}
	if kind == "policy" {
		mp, err := loadPolicy(c.Tx, c.Account(), a, false)
		if err != nil {
			return nil, err
		}
		t := &target{kind: kind}
		if err := t.addManaged(c, mp.Arn); err != nil {
			return nil, err
		}
		users := map[string]bool{}
		ents, err := policyEntities(c, mp.Arn, "PermissionsPolicy", "", "/")
		if err != nil {
			return nil, err
		}
		for _, l := range ents {
			switch l.e {
			case groupEntity:
				ms, err := groupMembers(c.Tx, c.Account(), l.Name)
				if err != nil {
					return nil, err
				}
				for _, m := range ms {
					if !users[m.Arn] {
						users[m.Arn] = true
						t.entities = append(t.entities, m)
					}
				}
			case userEntity:
				if !users[l.Arn] {
					users[l.Arn] = true
					t.entities = append(t.entities, memberOf(l.Principal, "USER"))
				}
			default:
				t.entities = append(t.entities, memberOf(l.Principal, "ROLE"))
			}
		}
		return t, nil
	}
	if account != c.Account() {
		return nil, noSuchEntity("The %s with name %s cannot be found.", kind, name)
	}
	var e *entity
	switch kind {
	case "user":
		e = userEntity
	case "group":
		e = groupEntity
	case "role":
		e = roleEntity
	}
	l, err := e.load(c.Tx, account, name)
	if err != nil {
		return nil, err
	}
	if l.Arn != a {
		return nil, noSuchEntity("The %s with name %s cannot be found.", kind, name)
	}
	t := &target{kind: kind}
	if err := t.addPrincipal(c, l.Principal, strings.ToUpper(kind)); err != nil {
		return nil, err
	}
	switch kind {
	case "group":
		if t.entities, err = groupMembers(c.Tx, account, l.Name); err != nil {
			return nil, err
		}
	case "user":
		t.entities = []member{memberOf(l.Principal, "USER")}
		for _, g := range l.user.Groups {
			var grp directory.Group
			if err := c.Tx.Get(directory.KindGroup, directory.NameKey(account, g), &grp); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				return nil, err
			}
			if err := t.addPrincipal(c, &grp.Principal, "GROUP"); err != nil {
				return nil, err
			}
		}
	default:
		t.entities = []member{memberOf(l.Principal, "ROLE")}
	}
	return t, nil
}

func memberOf(p *directory.Principal, typ string) member {
	return member{Arn: p.Arn, Name: p.Name, Type: typ, ID: p.ID, Path: p.Path}
}

// groupMembers lists a group's users.
func groupMembers(tx store.Tx, account, group string) ([]member, error) {
	var out []member
	err := tx.Scan(groupMemberIndex, directory.NameKey(account, group)+"/", "", 0, func(_ string, data []byte) (bool, error) {
		var name string
		if err := jsonUnmarshal(data, &name); err != nil {
			return false, err
		}
		var u directory.User
		if err := tx.Get(directory.KindUser, directory.NameKey(account, name), &u); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return true, nil
			}
			return false, err
		}
		out = append(out, memberOf(&u.Principal, "USER"))
		return true, nil
	})
	return out, err
}

// addPrincipal adds a principal's inline and attached policies.
func (t *target) addPrincipal(c *service.Call, p *directory.Principal, entityType string) error {
	names := make([]string, 0, len(p.InlinePolicies))
	for n := range p.InlinePolicies {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		doc, err := c.Env.Resolver.Policies.Compile(p.InlinePolicies[n], policy.Identity)
		if err != nil {
			continue // stored documents were valid when written
		}
		t.grants = append(t.grants, grant{Name: n, Type: "INLINE", EntityType: entityType, EntityName: p.Name, doc: doc})
	}
	for _, a := range p.AttachedPolicies {
		if err := t.addManaged(c, a); err != nil {
			return err
		}
	}
	return nil
}

func (t *target) addManaged(c *service.Call, a string) error {
	mp, err := loadPolicy(c.Tx, c.Account(), a, false)
	if err != nil {
		var we *wire.Error
		if errors.As(err, &we) && we.Code == "NoSuchEntity" {
			return nil // detached or deleted under us
		}
		return err
	}
	doc, err := c.Env.Resolver.Policies.Compile(mp.Default(), policy.Identity)
	if err != nil {
		return nil
	}
	t.grants = append(t.grants, grant{Name: mp.Name, Type: "MANAGED", Arn: mp.Arn, doc: doc})
	return nil
}

// allows reports whether a policy has an Allow statement covering some action of a
// service: permissions policy logic alone, as AWS's reports use.
func (g *grant) allows(prefix string, actions []*awsdata.Action) bool {
	for i := range g.doc.Statements {
		st := &g.doc.Statements[i]
		if st.Effect != policy.Allow || !statementMayCover(st, prefix) {
			continue
		}
		for _, a := range actions {
			if st.MatchesAction(prefix + ":" + a.Name) {
				return true
			}
		}
	}
	return false
}

// statementMayCover cheaply rules out statements whose every Action names another
// service without wildcards in its prefix.
func statementMayCover(st *policy.Statement, prefix string) bool {
	acts, not := st.Actions()
	if not {
		return true
	}
	for _, a := range acts {
		p, _, _ := strings.Cut(a, ":")
		if strings.ContainsAny(p, "*?") || strings.EqualFold(p, prefix) || a == "*" {
			return true
		}
	}
	return false
}

// allowedServices lists the service namespaces some grant allows, sorted.
func allowedServices(grants []grant) []string {
	var out []string
	for _, p := range awsdata.ServicePrefixes() {
		acts := awsdata.ServiceActions(p)
		for i := range grants {
			if grants[i].allows(p, acts) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// ---- jobs ------------------------------------------------------------------------

type accessJob struct {
	ID          string
	Owner       string // the caller that generated it: only they may read it
	Arn         string
	Kind        string
	Granularity string
	Created     time.Time
	Entities    []member
	Services    []jobService
}

type jobService struct {
	Namespace, Name string
	Uses            []entityUse // by entity index, most recent first
	Actions         []jobAction `json:",omitempty"`
}

type entityUse struct {
	Entity int
	Time   time.Time
	Region string
}

type jobAction struct {
	Name   string
	Entity string    `json:",omitempty"`
	Time   time.Time `json:",omitempty"`
	Region string    `json:",omitempty"`
}

// newJobID returns a 36-character job id, a UUID as AWS's are.
func newJobID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

type jobIDResult struct {
	JobId string `xml:"JobId"`
}

func generateServiceLastAccessedDetails(c *service.Call) (any, error) {
	in := newInput(c)
	a := in.arn("Arn")
	gran := in.enum("Granularity", "SERVICE_LEVEL", "ACTION_LEVEL")
	if err := in.err(); err != nil {
		return nil, err
	}
	if gran == "" {
		gran = "SERVICE_LEVEL"
	}
	t, err := resolveTarget(c, a, "user", "group", "role", "policy")
	if err != nil {
		return nil, err
	}
	data := make([]*lastaccess.Entity, len(t.entities))
	for i, m := range t.entities {
		if data[i], err = lastaccess.Load(c.Tx, c.Account(), m.Arn); err != nil {
			return nil, err
		}
	}
	job := &accessJob{ID: newJobID(), Owner: c.Identity.Caller.Arn, Arn: a, Kind: t.kind, Granularity: gran,
		Created: c.Now.UTC(), Entities: t.entities}
	for _, ns := range allowedServices(t.grants) {
		name, _ := awsdata.Service(ns)
		js := jobService{Namespace: ns, Name: name}
		for i, d := range data {
			if d == nil || d.Services[ns] == nil {
				continue
			}
			u := d.Services[ns]
			js.Uses = append(js.Uses, entityUse{Entity: i, Time: u.Time, Region: u.Region})
		}
		sort.SliceStable(js.Uses, func(i, j int) bool { return js.Uses[i].Time.After(js.Uses[j].Time) })
		if gran == "ACTION_LEVEL" && slices.Contains(lastaccess.ActionLevelServices, ns) {
			js.Actions = trackedActions(t, data, ns)
		}
		job.Services = append(job.Services, js)
	}
	if err := c.Tx.Put(kindAccessJob, c.Account()+"/"+job.ID, job); err != nil {
		return nil, err
	}
	return &jobIDResult{job.ID}, nil
}

// trackedActions lists a service's tracked actions that the target's policies allow,
// with the latest attempt of any of its entities.
func trackedActions(t *target, data []*lastaccess.Entity, ns string) []jobAction {
	var out []jobAction
	for _, a := range awsdata.ServiceActions(ns) {
		if !lastaccess.TrackedAction(ns + ":" + a.Name) {
			continue
		}
		allowed := false
		for i := range t.grants {
			if t.grants[i].allows(ns, []*awsdata.Action{a}) {
				allowed = true
				break
			}
		}
		if !allowed {
			continue
		}
		ja := jobAction{Name: a.Name}
		for i, d := range data {
			if d == nil || d.Services[ns] == nil {
				continue
			}
			if u := d.Services[ns].Actions[a.Name]; u != nil && u.Time.After(ja.Time) {
				ja.Time, ja.Region, ja.Entity = u.Time, u.Region, t.entities[i].Arn
			}
		}
		out = append(out, ja)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// loadJob reads a job of the caller's; another caller's job is not theirs to read
// ("must be used by the same role within a session, or by the same user").
func loadJob(c *service.Call, id string) (*accessJob, error) {
	var job accessJob
	err := c.Tx.Get(kindAccessJob, c.Account()+"/"+id, &job)
	if errors.Is(err, store.ErrNotFound) || (err == nil && job.Owner != c.Identity.Caller.Arn) {
		return nil, noSuchEntity("Job with id %s not found.", id)
	}
	if err != nil {
		return nil, err
	}
	return &job, nil
}

// jobParams reads JobId with its constraints.
func jobParams(in *input) string {
	id, ok := in.required("JobId")
	if ok {
		in.v.Length(id, "jobId", 36, 36)
	}
	return id
}

type trackedActionXML struct {
	ActionName         string `xml:"ActionName,omitempty"`
	LastAccessedEntity string `xml:"LastAccessedEntity,omitempty"`
	LastAccessedTime   string `xml:"LastAccessedTime,omitempty"`
	LastAccessedRegion string `xml:"LastAccessedRegion,omitempty"`
}

type serviceLastAccessedXML struct {
	ServiceName                string                  `xml:"ServiceName"`
	LastAuthenticated          string                  `xml:"LastAuthenticated,omitempty"`
	ServiceNamespace           string                  `xml:"ServiceNamespace"`
	LastAuthenticatedEntity    string                  `xml:"LastAuthenticatedEntity,omitempty"`
	LastAuthenticatedRegion    string                  `xml:"LastAuthenticatedRegion,omitempty"`
	TotalAuthenticatedEntities int                     `xml:"TotalAuthenticatedEntities"`
	TrackedActionsLastAccessed *list[trackedActionXML] `xml:"TrackedActionsLastAccessed,omitempty"`
}

type getServiceLastAccessedResult struct {
	JobStatus            string                       `xml:"JobStatus"`
	JobType              string                       `xml:"JobType"`
	JobCreationDate      string                       `xml:"JobCreationDate"`
	ServicesLastAccessed list[serviceLastAccessedXML] `xml:"ServicesLastAccessed"`
	JobCompletionDate    string                       `xml:"JobCompletionDate"`
	IsTruncated          bool                         `xml:"IsTruncated"`
	Marker               string                       `xml:"Marker,omitempty"`
}

func getServiceLastAccessedDetails(c *service.Call) (any, error) {
	in := newInput(c)
	id := jobParams(in)
	if err := in.err(); err != nil {
		return nil, err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	job, err := loadJob(c, id)
	if err != nil {
		return nil, err
	}
	start, end, truncated, marker, err := slicePage(len(job.Services), p)
	if err != nil {
		return nil, err
	}
	res := &getServiceLastAccessedResult{JobStatus: "COMPLETED", JobType: job.Granularity, JobCreationDate: isoTime(job.Created),
		JobCompletionDate: isoTime(job.Created), IsTruncated: truncated, Marker: marker}
	res.ServicesLastAccessed.Member = []serviceLastAccessedXML{}
	for _, s := range job.Services[start:end] {
		x := serviceLastAccessedXML{ServiceName: s.Name, ServiceNamespace: s.Namespace, TotalAuthenticatedEntities: len(s.Uses)}
		if len(s.Uses) > 0 {
			u := s.Uses[0]
			x.LastAuthenticated, x.LastAuthenticatedEntity, x.LastAuthenticatedRegion = isoTime(u.Time), job.Entities[u.Entity].Arn, u.Region
		}
		if job.Granularity == "ACTION_LEVEL" && slices.Contains(lastaccess.ActionLevelServices, s.Namespace) {
			x.TrackedActionsLastAccessed = &list[trackedActionXML]{Member: []trackedActionXML{}}
			for _, a := range s.Actions {
				ax := trackedActionXML{ActionName: a.Name}
				if !a.Time.IsZero() {
					ax.LastAccessedEntity, ax.LastAccessedTime, ax.LastAccessedRegion = a.Entity, isoTime(a.Time), a.Region
				}
				x.TrackedActionsLastAccessed.Member = append(x.TrackedActionsLastAccessed.Member, ax)
			}
		}
		res.ServicesLastAccessed.Member = append(res.ServicesLastAccessed.Member, x)
	}
	return res, nil
}

type entityInfoXML struct {
	Arn  string `xml:"Arn"`
	Name string `xml:"Name"`
	Type string `xml:"Type"`
	Id   string `xml:"Id"`
	Path string `xml:"Path,omitempty"`
}

type entityDetailsXML struct {
	EntityInfo        entityInfoXML `xml:"EntityInfo"`
	LastAuthenticated string        `xml:"LastAuthenticated,omitempty"`
}

type getWithEntitiesResult struct {
	JobStatus         string                 `xml:"JobStatus"`
	JobCreationDate   string                 `xml:"JobCreationDate"`
	JobCompletionDate string                 `xml:"JobCompletionDate"`
	EntityDetailsList list[entityDetailsXML] `xml:"EntityDetailsList"`
	IsTruncated       bool                   `xml:"IsTruncated"`
	Marker            string                 `xml:"Marker,omitempty"`
}

// getServiceLastAccessedDetailsWithEntities lists the report's entities for one
// service, most recent attempt first, then those without one (by name).
func getServiceLastAccessedDetailsWithEntities(c *service.Call) (any, error) {
	in := newInput(c)
	id := jobParams(in)
	ns := namespaceParam(in)
	if err := in.err(); err != nil {
		return nil, err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	job, err := loadJob(c, id)
	if err != nil {
		return nil, err
	}
	var details []entityDetailsXML
	for _, s := range job.Services {
		if s.Namespace != ns {
			continue
		}
		used := map[int]bool{}
		for _, u := range s.Uses {
			used[u.Entity] = true
			details = append(details, entityDetailsXML{EntityInfo: entityInfo(job.Entities[u.Entity]), LastAuthenticated: isoTime(u.Time)})
		}
		var rest []entityDetailsXML
		for i, m := range job.Entities {
			if !used[i] {
				rest = append(rest, entityDetailsXML{EntityInfo: entityInfo(m)})
			}
		}
		sort.SliceStable(rest, func(i, j int) bool { return rest[i].EntityInfo.Name < rest[j].EntityInfo.Name })
		details = append(details, rest...)
	}
	start, end, truncated, marker, err := slicePage(len(details), p)
	if err != nil {
		return nil, err
	}
	res := &getWithEntitiesResult{JobStatus: "COMPLETED", JobCreationDate: isoTime(job.Created), JobCompletionDate: isoTime(job.Created),
		IsTruncated: truncated, Marker: marker}
	res.EntityDetailsList.Member = append([]entityDetailsXML{}, details[start:end]...)
	return res, nil
}

func entityInfo(m member) entityInfoXML {
	return entityInfoXML{Arn: m.Arn, Name: m.Name, Type: m.Type, Id: m.ID, Path: m.Path}
}

// namespaceParam reads a required ServiceNamespace (1–64 of [\w-]).
func namespaceParam(in *input) string {
	ns, ok := in.required("ServiceNamespace")
	if ok {
		checkNamespace(&in.v, ns, "serviceNamespace")
	}
	return ns
}

func checkNamespace(v *validation, ns, member string) {
	v.Length(ns, member, 1, 64)
	ok := true
	for _, r := range ns {
		if !(r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			ok = false
		}
	}
	v.Check(ok, ns, member, `satisfy regular expression pattern: [\w-]*`)
}

type policyGrantingXML struct {
	PolicyName string `xml:"PolicyName"`
	PolicyType string `xml:"PolicyType"`
	PolicyArn  string `xml:"PolicyArn,omitempty"`
	EntityType string `xml:"EntityType,omitempty"`
	EntityName string `xml:"EntityName,omitempty"`
}

type policiesGrantingEntryXML struct {
	ServiceNamespace string                  `xml:"ServiceNamespace"`
	Policies         list[policyGrantingXML] `xml:"Policies"`
}

type listPoliciesGrantingResult struct {
	PoliciesGrantingServiceAccess list[policiesGrantingEntryXML] `xml:"PoliciesGrantingServiceAccess"`
	IsTruncated                   bool                           `xml:"IsTruncated"`
	Marker                        string                         `xml:"Marker,omitempty"`
}

// listPoliciesGrantingServiceAccess answers, per namespace asked, which of the
// identity's permissions policies (a user's include its groups') allow an action of
// the service. Every namespace fits one page, as the API has no MaxItems.
func listPoliciesGrantingServiceAccess(c *service.Call) (any, error) {
	in := newInput(c)
	a := in.arn("Arn")
	nss, err := c.Params.List("ServiceNamespaces")
	if err != nil {
		return nil, err
	}
	if !c.Params.Has("ServiceNamespaces.member.1") {
		in.v.Null("serviceNamespaces")
	} else {
		in.v.Check(len(nss) <= 200, fmt.Sprint(nss), "serviceNamespaces", "have length less than or equal to 200")
		for i, ns := range nss {
			checkNamespace(&in.v, ns, fmt.Sprintf("serviceNamespaces.%d.member", i+1))
		}
	}
	if c.Params.Has("Marker") {
		in.v.Length(c.Params.Get("Marker"), "marker", 1, 320)
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	t, err := resolveTarget(c, a, "user", "group", "role")
	if err != nil {
		return nil, err
	}
	res := &listPoliciesGrantingResult{}
	res.PoliciesGrantingServiceAccess.Member = []policiesGrantingEntryXML{}
	for _, ns := range nss {
		entry := policiesGrantingEntryXML{ServiceNamespace: ns}
		entry.Policies.Member = []policyGrantingXML{}
		acts := awsdata.ServiceActions(ns)
		for i := range t.grants {
			g := &t.grants[i]
			if !g.allows(strings.ToLower(ns), acts) {
				continue
			}
			x := policyGrantingXML{PolicyName: g.Name, PolicyType: g.Type, PolicyArn: g.Arn}
			if g.Type == "INLINE" {
				x.EntityType, x.EntityName = g.EntityType, g.EntityName
			}
			entry.Policies.Member = append(entry.Policies.Member, x)
		}
		res.PoliciesGrantingServiceAccess.Member = append(res.PoliciesGrantingServiceAccess.Member, entry)
	}
	return res, nil
}
