//go:build dawsos_testcaps

package main

import (
	"os"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/testcaps"
)

// A binary built with -tags dawsos_testcaps also hosts test.noop and
// test.flaky (switched by the file DAWSOS_TEST_FAULT_FILE names), for the
// end-to-end tests and `dawsos bench` of the engine's own overhead.
func init() {
	extraRegistrations = append(extraRegistrations, func(r *agents.Registry, _ Config) {
		testcaps.Register(r, os.Getenv("DAWSOS_TEST_FAULT_FILE"))
	})
}
