package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/spf13/cobra"
)

// batchLine is one line of a --batch file: a run as POST /v1/runs takes it.
type batchLine struct {
	line int
	req  submitRequest
}

// readBatch reads a JSON-lines file of runs, strictly: an unknown field or
// a line that is not one JSON object is a usage error naming the line.
func readBatch(r io.Reader) ([]batchLine, error) {
	var out []batchLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var req submitRequest
		if err := dec.Decode(&req); err != nil {
			return nil, usageErrorf("--batch line %d: %v", n, err)
		}
		if dec.More() {
			return nil, usageErrorf("--batch line %d: more than one JSON value", n)
		}
		if req.Pattern == "" {
			return nil, usageErrorf("--batch line %d: no pattern", n)
		}
		out = append(out, batchLine{line: n, req: req})
	}
	if err := sc.Err(); err != nil {
		return nil, usageErrorf("--batch: %v", err)
	}
	if len(out) == 0 {
		return nil, usageErrorf("--batch: no runs in the file")
	}
	return out, nil
}

// acceptedBatch is the answer to POST /v1/runs:batch.
type acceptedBatch struct {
	Runs []struct {
		RunID    string `json:"run_id"`
		Existing bool   `json:"existing"`
	} `json:"runs"`
}

func runBatch(cmd *cobra.Command, g *globals, f *runFlags) error {
	if f.batchSize < 1 {
		return usageErrorf("--batch-size must be at least 1")
	}
	in := cmd.InOrStdin()
	if f.batch != "-" {
		file, err := os.Open(f.batch)
		if err != nil {
			return usageErrorf("--batch: %v", err)
		}
		defer file.Close()
		in = file
	}
	lines, err := readBatch(in)
	if err != nil {
		return err
	}
	c, err := f.client(g)
	if err != nil {
		return err
	}
	defer c.close()
	out := cmd.OutOrStdout()
	type result struct {
		Line     int    `json:"line"`
		RunID    string `json:"run_id"`
		Existing bool   `json:"existing"`
	}
	var all []result
	for start := 0; start < len(lines); start += f.batchSize {
		chunk := lines[start:min(start+f.batchSize, len(lines))]
		body := struct {
			Runs []submitRequest `json:"runs"`
		}{}
		for _, l := range chunk {
			body.Runs = append(body.Runs, l.req)
		}
		_, raw, err := c.doJSON(cmd.Context(), c.hc, http.MethodPost, "/v1/runs:batch", nil, body)
		if err != nil {
			return fmt.Errorf("the batch of lines %d-%d (runs[i] is line %d + i) was refused, the %d runs before it were accepted: %w",
				chunk[0].line, chunk[len(chunk)-1].line, chunk[0].line, start, err)
		}
		var acc acceptedBatch
		if err := json.Unmarshal(raw, &acc); err != nil || len(acc.Runs) != len(chunk) {
			return fmt.Errorf("decode the answer to the batch of lines %d-%d: %w", chunk[0].line, chunk[len(chunk)-1].line,
				errors.Join(err, fmt.Errorf("%d runs answered for %d", len(acc.Runs), len(chunk))))
		}
		for i, r := range acc.Runs {
			res := result{Line: chunk[i].line, RunID: r.RunID, Existing: r.Existing}
			all = append(all, res)
			if f.json {
				continue
			}
			if r.Existing {
				fmt.Fprintf(out, "%s existing\n", r.RunID)
			} else {
				fmt.Fprintln(out, r.RunID)
			}
		}
	}
	if f.json {
		return printJSON(out, all)
	}
	return nil
}
