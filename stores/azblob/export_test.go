package azblob

import "context"

// WaitRenewalEnd waits until ctx ends for the renewal of id's lock to end
// and returns whether it ended and why.
func WaitRenewalEnd(ctx context.Context, s *Store, id string) (bool, error) {
	s.mu.Lock()
	hl := s.held[s.layout.LockKey(id)]
	s.mu.Unlock()
	if hl == nil {
		return true, nil
	}
	select {
	case <-hl.done:
		return true, hl.lostErr()
	case <-ctx.Done():
		return false, nil
	}
}

// Renewing counts the leases the store renews in the background.
func Renewing(s *Store) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, hl := range s.held {
		select {
		case <-hl.done:
		default:
			n++
		}
	}
	return n
}

// SetPageSizes sets how many keys listings ask for in the first page and
// in later ones.
func SetPageSizes(s *Store, first, rest int32) { s.firstPage, s.pageSize = first, rest }
