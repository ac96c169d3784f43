package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/dawsos/dawsos/storage/csvimport"
)

func TestImportUsageErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no portfolio", []string{"import", "transactions", "trades.csv"}, "--portfolio is required"},
		{"portfolio not a uuid", []string{"import", "transactions", "trades.csv", "--portfolio", "main"}, "must be a portfolio id"},
		{"no file", []string{"import", "prices"}, "accepts 1 arg"},
		{"unknown flag", []string{"import", "prices", "p.csv", "--portfolio", "x"}, "unknown flag"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			root := newRootCmd()
			root.SetArgs(c.args)
			root.SetOut(&bytes.Buffer{})
			root.SetErr(&bytes.Buffer{})
			err := root.Execute()
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), c.want) {
				t.Errorf("dawsos %v: err = %v, want a usage error (exit 2) containing %q", c.args, err, c.want)
			}
		})
	}
}

func TestReportImport(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	rows := []csvimport.RowError{
		{Line: 3, Field: "symbol", Code: csvimport.CodeUnknownSecurity, Message: `no security has the symbol "NOPE"`},
		{Line: 7, Field: "quantity", Code: csvimport.CodeNotPositive, Message: "must be greater than 0, got -5"},
	}
	err := reportImport(&out, &errOut, "t.csv", csvimport.Result{Rows: 9, Errors: rows}, &csvimport.ImportError{Rows: rows})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("bad rows: err = %v, want exit 1", err)
	}
	want := "line 3: symbol: no security has the symbol \"NOPE\"\nline 7: quantity: must be greater than 0, got -5\n"
	if errOut.String() != want || out.Len() != 0 {
		t.Errorf("stderr = %q, stdout = %q; want stderr %q", errOut.String(), out.String(), want)
	}

	out.Reset()
	res := csvimport.Result{Rows: 3, Applied: 1, Duplicates: 2, Packs: []csvimport.PackResult{
		{Date: "2024-01-03", PackID: "PP_2024-01-03", Status: "fresh", Unchanged: true},
		{Date: "2024-01-05", PackID: "PP_2024-01-05", Status: "error", MissingPrices: []string{"CNR"}},
	}}
	if err := reportImport(&out, &errOut, "p.csv", res, nil); err != nil {
		t.Fatalf("good import: %v", err)
	}
	want = "p.csv imported: 3 rows read, 1 new, 2 duplicates\n" +
		"  2024-01-03  PP_2024-01-03  fresh (unchanged)\n" +
		"  2024-01-05  PP_2024-01-05  error  missing prices: CNR\n"
	if out.String() != want {
		t.Errorf("stdout = %q, want %q", out.String(), want)
	}
}
