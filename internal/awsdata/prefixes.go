package awsdata

import "sort"

// Prefixes returns every service prefix the reference lists, sorted.
func Prefixes() []string {
	s := load()
	out := make([]string, 0, len(s.Services))
	for p := range s.Services {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
