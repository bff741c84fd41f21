package stores

import "context"

// RawReader is optional: a store that keeps each record as bytes, without
// versions, hands out a record's bytes as stored, readable or not, so an
// unreadable one can be shown and repaired as text. (A ConditionalStore
// returns them with GetVersioned.)
type RawReader interface {
	ReadRaw(ctx context.Context, id string) ([]byte, error)
}
