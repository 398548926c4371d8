package config

// unknown says why a name is no setting, suggesting the nearest one when
// it is a likely typo; env: the name came from an environment variable,
// so the suggestion is the variable.
func unknown(name string, env bool) string {
	why := "unknown setting"
	if env {
		why = "unknown SLUICE_ variable"
	}
	best, bestDist := "", 3 // farther than two edits is no typo
	for _, s := range settings {
		if d := editDistance(name, s.Name); d < bestDist {
			best, bestDist = s.Name, d
			if env {
				best = s.Env()
			}
		}
	}
	if best != "" {
		why += "; did you mean " + best + "?"
	}
	return why
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
