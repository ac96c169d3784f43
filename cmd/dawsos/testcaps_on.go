//go:build dawsos_testcaps

package main

import (
	"os"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/testcaps"
)

// A binary built with -tags dawsos_testcaps also hosts test.noop,
// test.flaky (switched by the file DAWSOS_TEST_FAULT_FILE names) and
// test.pg_sleep, for the end-to-end tests and `dawsos bench` of the
// engine's own overhead, and checks every capability's declared contract.
func init() {
	extraAgents = append(extraAgents, func(Config) agents.Constructor {
		return testcaps.New(os.Getenv("DAWSOS_TEST_FAULT_FILE"))
	})
	checkContracts = true
}
