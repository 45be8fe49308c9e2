package apply

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The credentials file is in the AWS shared-credentials format (INI). A new key
// replaces the section of its profile and keeps everything else; the file is written
// whole to a temporary file and renamed, with mode 0600.

// sectionName is the profile a line opens, if it is a section header.
func sectionName(line string) (string, bool) {
	t := strings.TrimSpace(line)
	if !strings.HasPrefix(t, "[") || !strings.HasSuffix(t, "]") {
		return "", false
	}
	return strings.TrimSpace(t[1 : len(t)-1]), true
}

// readProfileKey returns the aws_access_key_id of profile in the file, if any.
func readProfileKey(path, profile string) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, ok := sectionName(sc.Text()); ok {
			in = name == profile
			continue
		}
		if k, v, ok := strings.Cut(sc.Text(), "="); in && ok && strings.TrimSpace(k) == "aws_access_key_id" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// writeProfile puts a key in the file under profile.
func writeProfile(path, profile, id, secret string) error {
	var kept []string
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		skip := false
		for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			if name, ok := sectionName(line); ok {
				skip = name == profile
			}
			if !skip {
				kept = append(kept, line)
			}
		}
	case !os.IsNotExist(err):
		return err
	}
	for len(kept) > 0 && strings.TrimSpace(kept[len(kept)-1]) == "" {
		kept = kept[:len(kept)-1]
	}
	if len(kept) > 0 {
		kept = append(kept, "")
	}
	kept = append(kept, "["+profile+"]", "aws_access_key_id = "+id, "aws_secret_access_key = "+secret, "")
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".credentials-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(strings.Join(kept, "\n")); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func sortBy[T any](list []T, key func(T) string) {
	sort.SliceStable(list, func(i, j int) bool { return key(list[i]) < key(list[j]) })
}
