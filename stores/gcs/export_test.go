package gcs

// SetPageSize sets how many keys a listing page asks for.
func SetPageSize(s *Store, n int) { s.pageSize = n }
