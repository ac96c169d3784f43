package patterns

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"sync"
)

//go:embed *.json
var embedded embed.FS

// Set holds the validated patterns by id. Only patterns without problems
// are added, so everything in a Set can run. It is safe for concurrent use.
type Set struct {
	cat Catalog

	mu   sync.RWMutex
	byID map[string]*Pattern
}

// NewSet returns an empty set whose patterns are validated against cat
// (nil skips the capability checks).
func NewSet(cat Catalog) *Set {
	return &Set{cat: cat, byID: map[string]*Pattern{}}
}

// LoadEmbedded loads the pattern files built into the binary and returns
// every problem found.
func (s *Set) LoadEmbedded() []Problem {
	return s.loadFS(embedded, ".", "")
}

// LoadDir loads every *.json file of dir (not its subfolders), such as the
// extra pattern directory named in the configuration. An id that is already
// in the set is a problem.
func (s *Set) LoadDir(dir string) []Problem {
	info, err := os.Stat(dir)
	if err != nil {
		return []Problem{{File: dir, Path: "$", Code: CodeReadError, Message: fmt.Sprintf("read pattern directory: %v", err)}}
	}
	if !info.IsDir() {
		return []Problem{{File: dir, Path: "$", Code: CodeReadError, Message: "read pattern directory: not a directory"}}
	}
	return s.loadFS(os.DirFS(dir), ".", dir)
}

func (s *Set) loadFS(fsys fs.FS, dir, label string) []Problem {
	names, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return []Problem{{File: label, Path: "$", Code: CodeReadError, Message: fmt.Sprintf("list pattern files: %v", err)}}
	}
	sort.Strings(names)
	var probs []Problem
	for _, n := range names {
		file := n
		if label != "" {
			file = path.Join(label, n)
		}
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			probs = append(probs, Problem{File: file, Path: "$", Code: CodeReadError, Message: fmt.Sprintf("read pattern file: %v", err)})
			continue
		}
		probs = append(probs, s.AddDocument(file, data)...)
	}
	return probs
}

// AddDocument parses, validates and adds one pattern document; it is added
// only when it has no problems.
func (s *Set) AddDocument(file string, data []byte) []Problem {
	p, probs := ValidateDocument(file, data, s.cat)
	if p == nil || len(probs) > 0 {
		return probs
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, dup := s.byID[p.ID]; dup {
		return []Problem{{File: file, Path: "$.id", Code: CodeDuplicatePatternID,
			Message: fmt.Sprintf("pattern id %q is already defined in %s", p.ID, prev.file)}}
	}
	s.byID[p.ID] = p
	return nil
}

// Get returns the pattern with the given id.
func (s *Set) Get(id string) (*Pattern, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.byID[id]
	return p, ok
}

// List returns the patterns sorted by id.
func (s *Set) List() []*Pattern {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Pattern, 0, len(s.byID))
	for _, id := range sortedKeys(s.byID) {
		out = append(out, s.byID[id])
	}
	return out
}

// Lint checks the embedded patterns and those of the extra directories
// against cat and returns every problem of every file, for `dawsos patterns
// lint` and start-up.
func Lint(cat Catalog, dirs ...string) []Problem {
	s := NewSet(cat)
	probs := s.LoadEmbedded()
	for _, d := range dirs {
		probs = append(probs, s.LoadDir(d)...)
	}
	return probs
}

// ErrProblems is matched by callers that turn a failed load into a start-up
// error.
var ErrProblems = errors.New("pattern problems")

// ProblemsError wraps a list of problems as one error, one problem a line.
func ProblemsError(probs []Problem) error {
	if len(probs) == 0 {
		return nil
	}
	errs := make([]error, 0, len(probs)+1)
	errs = append(errs, fmt.Errorf("%w: %d found", ErrProblems, len(probs)))
	for _, p := range probs {
		errs = append(errs, errors.New(p.String()))
	}
	return errors.Join(errs...)
}
