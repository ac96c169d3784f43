package storage_test

import (
	"testing"

	"github.com/dawsos/dawsos/storage/pgtest"
)

// TestMain runs the tests on the shared test server and then checks, when
// they pass, that no goroutine outlives them (pools closed, managed servers
// stopped and reaped).
func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }
