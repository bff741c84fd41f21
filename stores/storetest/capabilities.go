package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"statescope/stores"
)

// Capability is an optional part of the store contract that the suites
// branch on. A harness lists the ones its backend has; the suites fail when
// a listed one is missing or an unlisted one is present, so a store that
// loses a capability fails instead of quietly skipping the checks that
// need it.
type Capability string

const (
	// LockInventory: stores.LockLister and stores.ForceUnlocker.
	LockInventory Capability = "lock inventory and force release"
	// LockHolders: stores.HolderLocker (the store records who locks).
	LockHolders Capability = "lock holders"
	// CompareAndSwap: stores.ConditionalStore.
	CompareAndSwap Capability = "compare-and-swap writes"
	// CorruptRecords: the backend can hold an unreadable record, and the
	// harness's Corrupt plants one.
	CorruptRecords Capability = "unreadable records"
	// RowVersions: stores.RowLister, listing each record's version so a
	// refresh reads only what changed.
	RowVersions Capability = "versioned row listings"
)

// Capabilities is what a harness declares its store has.
type Capabilities []Capability

// AllCapabilities is every capability the suites know.
var AllCapabilities = Capabilities{LockInventory, LockHolders, CompareAndSwap, CorruptRecords, RowVersions}

// Has reports whether c is declared.
func (cs Capabilities) Has(c Capability) bool { return slices.Contains(cs, c) }

// Need skips t when c is not declared. Check has already proved the
// declaration true, so only a capability the backend really lacks (and says
// it lacks) skips.
func (cs Capabilities) Need(t *testing.T, c Capability) {
	t.Helper()
	if !cs.Has(c) {
		t.Skipf("the backend has no %s (not declared)", c)
	}
}

// Check fails t unless s, and canCorrupt (whether the harness can plant an
// unreadable record), have exactly the declared capabilities.
func (cs Capabilities) Check(t *testing.T, s stores.Store, canCorrupt bool) {
	t.Helper()
	if problems := cs.mismatches(s, canCorrupt); len(problems) > 0 {
		t.Fatal(strings.Join(problems, "\n"))
	}
}

func (cs Capabilities) mismatches(s stores.Store, canCorrupt bool) []string {
	_, lister := s.(stores.LockLister)
	_, forcer := s.(stores.ForceUnlocker)
	_, holders := s.(stores.HolderLocker)
	_, cas := s.(stores.ConditionalStore)
	_, rows := s.(stores.RowLister)
	has := map[Capability]bool{
		LockInventory:  lister && forcer,
		LockHolders:    holders,
		CompareAndSwap: cas,
		CorruptRecords: canCorrupt,
		RowVersions:    rows,
	}
	var problems []string
	for _, c := range AllCapabilities {
		switch {
		case cs.Has(c) && !has[c]:
			problems = append(problems, fmt.Sprintf("the harness declares %s, but the store (%T) does not have it", c, s))
		case !cs.Has(c) && has[c]:
			problems = append(problems, fmt.Sprintf("the store (%T) has %s: declare it in the harness so its checks cannot be skipped", s, c))
		}
	}
	return problems
}
