package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"statescope/remote/proto/lockadminpb"
	"statescope/remote/wire"
	"statescope/stores"
)

// admin implements LockAdmin over the same store.
type admin struct {
	lockadminpb.UnimplementedLockAdminServer
	s *Server
}

// Describe reports the current store, or New's before Configure. Clients
// probe it before they configure, so without any store yet it still
// answers, with what is known.
func (a *admin) Describe(context.Context, *lockadminpb.DescribeRequest) (*lockadminpb.DescribeResponse, error) {
	host, _ := os.Hostname()
	resp := &lockadminpb.DescribeResponse{BackendName: a.s.name, Host: host, Pid: int64(os.Getpid())}
	a.s.mu.Lock()
	b := a.s.cur
	if b == nil {
		b = a.s.fixed
	}
	a.s.mu.Unlock()
	if b == nil {
		resp.Store = "none until Configure names one"
		return resp, nil
	}
	_, lists := b.store.(stores.LockLister)
	_, forces := b.store.(stores.ForceUnlocker)
	resp.Kind, resp.Store = b.kind, stores.Describe(b.store)
	resp.LockInventory, resp.ForceUnlock = lists, forces && !stores.IsReadOnly(b.store)
	return resp, nil
}

// ListLocks returns the inventory. Holders on this host are checked here,
// where their pids mean something: a client on another host cannot.
func (a *admin) ListLocks(ctx context.Context, _ *lockadminpb.ListLocksRequest) (*lockadminpb.ListLocksResponse, error) {
	b, done, err := a.s.use()
	if err != nil {
		return nil, err
	}
	defer done()
	ll, ok := b.store.(stores.LockLister)
	if !ok {
		return nil, status.Errorf(codes.Unimplemented, "%s has no lock inventory", stores.Describe(b.store))
	}
	locks, err := ll.Locks(ctx)
	if err != nil {
		return nil, a.s.fail("ListLocks", "", err)
	}
	host, _ := os.Hostname()
	for i := range locks {
		checkHolder(&locks[i], host)
	}
	// Judge a copy: clients judge again and would repeat its evidence.
	judged := slices.Clone(locks)
	stores.Judge(judged, time.Now(), stores.DefaultStaleAfter)
	verdicts := map[string]stores.Verdict{}
	for _, l := range judged {
		verdicts[l.ResourceID] = l.Verdict
	}
	resp := &lockadminpb.ListLocksResponse{}
	for _, l := range locks {
		l.Verdict = verdicts[l.ResourceID]
		resp.Locks = append(resp.Locks, wire.LockToProto(l))
	}
	return resp, nil
}

func checkHolder(l *stores.LockInfo, host string) {
	h := l.Holder
	if h == nil || h.PID == 0 || h.Host != host || l.HolderGone {
		return
	}
	var note string
	if stores.ProcessAlive(h.PID) {
		note = fmt.Sprintf("holder pid %d is running on %s (checked by the serving process)", h.PID, host)
	} else {
		l.HolderGone = true
		note = fmt.Sprintf("holder pid %d no longer exists on %s (checked by the serving process)", h.PID, host)
	}
	if l.Evidence != "" {
		note = l.Evidence + "; " + note
	}
	l.Evidence = note
}

// ForceUnlock maps the store's compare-and-swap outcomes to distinct codes:
// Aborted for a changed lock, NotFound for no lock.
func (a *admin) ForceUnlock(ctx context.Context, req *lockadminpb.ForceUnlockRequest) (*lockadminpb.ForceUnlockResponse, error) {
	b, done, err := a.s.useToChange("ForceUnlock", req.GetResourceId())
	if err != nil {
		return nil, err
	}
	defer done()
	fu, ok := b.store.(stores.ForceUnlocker)
	if !ok {
		return nil, status.Errorf(codes.Unimplemented, "%s cannot force-release locks", stores.Describe(b.store))
	}
	err = a.s.forceUnlock(ctx, b, fu, req.GetResourceId(), req.GetToken())
	switch {
	case err == nil:
		a.s.log.Printf("ForceUnlock %q: released lock with token %s", req.GetResourceId(), req.GetToken())
		return &lockadminpb.ForceUnlockResponse{}, nil
	case errors.Is(err, stores.ErrLockChanged):
		return nil, status.Error(codes.Aborted, err.Error())
	case errors.Is(err, stores.ErrNotLocked):
		return nil, status.Error(codes.NotFound, err.Error())
	}
	return nil, a.s.fail("ForceUnlock", req.GetResourceId(), err)
}

// Batches stay well under the 4 MiB a default gRPC client accepts.
const (
	batchEntries = 512
	batchBytes   = 1 << 20
)

// StreamEntries sends every entry, unreadable ones included, in batches.
func (a *admin) StreamEntries(req *lockadminpb.StreamEntriesRequest, stream grpc.ServerStreamingServer[lockadminpb.EntryBatch]) error {
	ctx := stream.Context()
	b, done, err := a.s.use()
	if err != nil {
		return err
	}
	defer done()
	batch, size := &lockadminpb.EntryBatch{}, 0
	flush := func() error {
		if len(batch.Entries) == 0 {
			return nil
		}
		err := stream.Send(batch)
		batch, size = &lockadminpb.EntryBatch{}, 0
		return err
	}
	err = stores.Stream(ctx, b.store, stores.FilterFromMap(req.GetFilter()), func(entries []stores.Entry) error {
		for _, e := range entries {
			pe := wire.EntryToProto(e)
			batch.Entries = append(batch.Entries, pe)
			size += proto.Size(pe)
			if len(batch.Entries) >= batchEntries || size >= batchBytes {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return flush()
	})
	if err != nil {
		if _, ok := status.FromError(err); ok {
			return err
		}
		return a.s.fail("StreamEntries", "", err)
	}
	return nil
}
