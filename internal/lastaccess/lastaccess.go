// Package lastaccess keeps IAM's last-accessed data from real decisions: a subscriber
// of the decision stream (internal/events) that remembers, per IAM entity (user, role,
// root user) and service namespace, when the entity last attempted to use the service,
// from which Region and — for the services AWS tracks at action level — which tracked
// action; per long-term access key its last use (time, service, Region); and per role
// the time it was last used.
//
// The subscriber aggregates in memory and a background loop writes what changed to
// the store at most once per second, in one write transaction. Reports read the store.
// A crash therefore loses at most the last second of last-accessed data (a graceful
// stop flushes it); AWS itself says recent activity appears within four hours.
package lastaccess

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/iamlocal/iamlocal/internal/awsdata"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/events"
	"github.com/iamlocal/iamlocal/internal/store"
)

// Kind holds an entity's last-accessed data; key: Key(account, entity ARN).
const Kind = "lastaccess"

// Key is the store key of an entity's data: its account, so that the entities of one
// account are one scan, and its ARN.
func Key(account, arn string) string { return account + "/" + arn }

// Entity is what is known of one IAM entity's attempts, by service namespace.
type Entity struct {
	Arn      string
	Services map[string]*Use
}

// Use is the last attempt on a service or action.
type Use struct {
	Time   time.Time
	Region string `json:",omitempty"`
	// Actions are the tracked actions attempted (by name as AWS writes it:
	// CreateBucket), for the services AWS tracks at action level.
	Actions map[string]*Use `json:",omitempty"`
}

// Load reads an entity's data; an entity never seen has none (nil, nil).
func Load(tx store.Tx, account, arn string) (*Entity, error) {
	var e Entity
	err := tx.Get(Kind, Key(account, arn), &e)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// ActionLevelServices are the services whose actions IAM reports last-accessed
// information for ("IAM action last accessed information services and actions":
// Amazon S3 management actions since 2020, Amazon EC2, IAM and AWS Lambda management
// actions since 2023).
var ActionLevelServices = []string{"ec2", "iam", "lambda", "s3"}

// TrackedAction reports whether AWS reports an action at action level: a management
// action — creation, deletion or modification, that is an access level other than
// Read and List in the service authorization reference — of a service of
// ActionLevelServices; S3's object-level (data) actions are not management actions.
func TrackedAction(action string) bool {
	prefix, _, _ := strings.Cut(action, ":")
	if !isActionLevel(prefix) {
		return false
	}
	a, ok := awsdata.LookupAction(action)
	if !ok || a.Access == "Read" || a.Access == "List" {
		return false
	}
	if strings.EqualFold(prefix, "s3") {
		for _, r := range a.Resources {
			if r.Type == "object" || r.Type == "accesspointobject" {
				return false
			}
		}
	}
	return true
}

func isActionLevel(prefix string) bool {
	for _, s := range ActionLevelServices {
		if strings.EqualFold(s, prefix) {
			return true
		}
	}
	return false
}

// keyUseWindow: "When an access key is used more than once in a 15-minute span, only
// the first use is recorded" (IAM User Guide, credential reports).
const keyUseWindow = 15 * time.Minute

// Tracker is the subscriber and its flush loop.
type Tracker struct {
	store    store.Store
	log      *slog.Logger
	sub      *events.Subscription
	interval time.Duration

	mu       sync.Mutex
	entities map[entityKey]*Entity // changes since the last flush
	keys     map[string]keyUse     // access key id → its latest use since the last flush
	roles    map[string]time.Time

	flushMu sync.Mutex // one flush at a time
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// entityKey is an entity in the pending map: a struct, so folding a record in
// allocates no key string.
type entityKey struct{ account, arn string }

type keyUse struct {
	time            time.Time
	service, region string
}

// Interval is how often the tracker writes to the store: at most once per second.
const Interval = time.Second

// Start subscribes a tracker to the stream and starts its flush loop.
func Start(st store.Store, stream *events.Stream, log *slog.Logger) *Tracker {
	t := &Tracker{store: st, log: log, interval: Interval, stop: make(chan struct{}), done: make(chan struct{})}
	t.reset()
	t.sub = stream.Subscribe("lastaccess", 0, t.observe)
	go t.loop()
	return t
}

func (t *Tracker) reset() {
	t.entities = map[entityKey]*Entity{}
	t.keys = map[string]keyUse{}
	t.roles = map[string]time.Time{}
}

// observe folds one decision into the pending changes. Unauthenticated requests
// are not reported, as on AWS; denied attempts are ("all attempts to access an AWS
// API, not just the successful ones").
func (t *Tracker) observe(r events.Record) {
	if r.Entity == "" || r.Account == "" {
		return
	}
	svc := r.Service()
	t.mu.Lock()
	defer t.mu.Unlock()
	k := entityKey{r.Account, r.Entity}
	e := t.entities[k]
	if e == nil {
		e = &Entity{Arn: r.Entity, Services: map[string]*Use{}}
		t.entities[k] = e
	}
	u := e.Services[svc]
	if u == nil {
		u = &Use{}
		e.Services[svc] = u
	}
	if !r.Time.Before(u.Time) {
		u.Time, u.Region = r.Time, r.Region
	}
	if TrackedAction(r.Action) {
		_, name, _ := strings.Cut(r.Action, ":")
		if a, ok := awsdata.LookupAction(r.Action); ok {
			name = a.Name
		}
		if u.Actions == nil {
			u.Actions = map[string]*Use{}
		}
		au := u.Actions[name]
		if au == nil {
			au = &Use{}
			u.Actions[name] = au
		}
		if !r.Time.Before(au.Time) {
			au.Time, au.Region = r.Time, r.Region
		}
	}
	if strings.HasPrefix(r.AccessKeyID, "AKIA") {
		if ku, ok := t.keys[r.AccessKeyID]; !ok || ku.time.Before(r.Time) {
			t.keys[r.AccessKeyID] = keyUse{r.Time, svc, r.Region}
		}
	}
	if strings.Contains(r.Entity, ":role/") {
		if r.Time.After(t.roles[r.Entity]) {
			t.roles[r.Entity] = r.Time
		}
	}
}

func (t *Tracker) loop() {
	defer close(t.done)
	tick := time.NewTicker(t.interval)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
			if err := t.Flush(context.Background()); err != nil {
				t.log.Error("last-accessed data not written", "err", err)
			}
		}
	}
}

// Flush writes the pending changes in one write transaction; nothing pending writes
// nothing. On failure the changes are kept for the next flush.
func (t *Tracker) Flush(ctx context.Context) error {
	t.flushMu.Lock()
	defer t.flushMu.Unlock()
	t.mu.Lock()
	entities, keys, roles := t.entities, t.keys, t.roles
	t.reset()
	t.mu.Unlock()
	if len(entities) == 0 && len(keys) == 0 && len(roles) == 0 {
		return nil
	}
	err := t.store.Write(ctx, func(tx store.Tx) error {
		for k, e := range entities {
			if err := mergeEntity(tx, Key(k.account, k.arn), e); err != nil {
				return err
			}
		}
		for id, u := range keys {
			if err := mergeKey(tx, id, u); err != nil {
				return err
			}
		}
		for arn, at := range roles {
			if err := mergeRole(tx, arn, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.restore(entities, keys, roles)
	}
	return err
}

// restore puts back changes a failed flush could not write, under newer ones.
func (t *Tracker) restore(entities map[entityKey]*Entity, keys map[string]keyUse, roles map[string]time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, e := range entities {
		if cur, ok := t.entities[k]; ok {
			merge(e, cur)
		}
		t.entities[k] = e
	}
	for id, u := range keys {
		if cur, ok := t.keys[id]; !ok || cur.time.Before(u.time) {
			t.keys[id] = u
		}
	}
	for arn, at := range roles {
		if at.After(t.roles[arn]) {
			t.roles[arn] = at
		}
	}
}

// merge folds src's uses into dst, keeping the later of each.
func merge(dst, src *Entity) {
	if dst.Services == nil {
		dst.Services = map[string]*Use{}
	}
	for svc, su := range src.Services {
		du := dst.Services[svc]
		if du == nil {
			dst.Services[svc] = su
			continue
		}
		if su.Time.After(du.Time) {
			du.Time, du.Region = su.Time, su.Region
		}
		for name, sa := range su.Actions {
			if du.Actions == nil {
				du.Actions = map[string]*Use{}
			}
			if da := du.Actions[name]; da == nil || sa.Time.After(da.Time) {
				du.Actions[name] = sa
			}
		}
	}
}

func mergeEntity(tx store.Tx, key string, e *Entity) error {
	var cur Entity
	err := tx.Get(Kind, key, &cur)
	switch {
	case errors.Is(err, store.ErrNotFound):
		cur = Entity{Arn: e.Arn}
	case err != nil:
		return err
	}
	merge(&cur, e)
	return tx.Put(Kind, key, &cur)
}

// mergeKey records a long-term key's use, keeping the first use of a 15-minute span
// as AWS does; S3 is not Region-specific, so its Region is N/A.
func mergeKey(tx store.Tx, id string, u keyUse) error {
	var k directory.AccessKey
	err := tx.Get(directory.KindAccessKey, id, &k)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted since
	}
	if err != nil {
		return err
	}
	if !k.LastUsed.IsZero() && u.time.Sub(k.LastUsed) < keyUseWindow {
		return nil
	}
	region := u.region
	if u.service == "s3" || region == "" {
		region = "N/A"
	}
	k.LastUsed, k.LastSvc, k.LastRegion = u.time.UTC(), u.service, region
	return tx.Put(directory.KindAccessKey, id, &k)
}

// mergeRole sets a role's RoleLastUsed date.
func mergeRole(tx store.Tx, arn string, at time.Time) error {
	account, name, ok := roleOf(arn)
	if !ok {
		return nil
	}
	var r directory.Role
	err := tx.Get(directory.KindRole, directory.NameKey(account, name), &r)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !at.After(r.LastUsed) {
		return nil
	}
	r.LastUsed = at.UTC()
	return tx.Put(directory.KindRole, directory.NameKey(account, name), &r)
}

// roleOf splits arn:aws:iam::ACCOUNT:role/PATH/NAME.
func roleOf(arn string) (account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || !strings.HasPrefix(parts[5], "role/") {
		return "", "", false
	}
	res := parts[5]
	return parts[4], res[strings.LastIndex(res, "/")+1:], true
}

// Sync waits until every decision published so far is folded in, then flushes: what
// a test calls after a request to see its effect in the store at once.
func (t *Tracker) Sync(ctx context.Context) error {
	t.sub.Sync()
	return t.Flush(ctx)
}

// Close stops the flush loop and writes what is pending. The stream must be closed
// (or no longer published to) first for nothing to be left behind.
func (t *Tracker) Close(ctx context.Context) error {
	t.once.Do(func() { close(t.stop) })
	<-t.done
	t.sub.Sync()
	return t.Flush(ctx)
}

// Dropped counts the decisions the tracker missed because its buffer was full.
func (t *Tracker) Dropped() uint64 { return t.sub.Dropped() }
