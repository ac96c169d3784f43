package storage

import (
	"os/exec"
	"time"
)

// Internals opened to the external test package (storage_test), which
// cannot live inside package storage because it imports storage/pgtest.

var (
	MigrateFS         = migrateFS
	MigrationStatusFS = migrationStatusFS
)

// WithoutBinarySearch makes the PATH and system-directory searches find
// nothing, as on a machine without PostgreSQL installed.
func WithoutBinarySearch(cfg ManagedConfig) ManagedConfig {
	cfg.lookPath = func(string) (string, error) { return "", exec.ErrNotFound }
	cfg.systemGlob = "/nonexistent/postgresql/*/bin"
	return cfg
}

// WithBusyWait shortens the wait for a live server on the data directory.
func WithBusyWait(cfg ManagedConfig, d time.Duration) ManagedConfig {
	cfg.busyWait = d
	return cfg
}
