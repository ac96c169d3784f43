// Package migrations holds the numbered SQL migrations of DawsOS, embedded in
// the binary and applied by storage's goose runner at start-up and by
// `dawsos migrate`. Migrations are additive: none drops user data.
package migrations

import "embed"

// FS holds every migration file, named NNNNN_what.sql.
//
//go:embed *.sql
var FS embed.FS
