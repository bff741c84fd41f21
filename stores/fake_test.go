package stores

import (
	"context"
	"errors"
)

// fakeStore fails every call: read-only tests prove mutations never reach it.
type fakeStore struct{}

var errReached = errors.New("reached the backend")

func (fakeStore) Get(context.Context, string) (*State, error)   { return nil, errReached }
func (fakeStore) Save(context.Context, *State) error            { return errReached }
func (fakeStore) List(context.Context, Filter) ([]Entry, error) { return nil, errReached }
func (fakeStore) Delete(context.Context, string) error          { return errReached }
func (fakeStore) Lock(context.Context, string) error            { return errReached }
func (fakeStore) Unlock(context.Context, string) error          { return errReached }
