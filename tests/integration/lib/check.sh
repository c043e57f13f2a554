# Sourced by tests that store rmon-loadgen's sample set.

# check_host DATA HOST SERIES SAMPLES: every series of HOST holds samples
# 0..SAMPLES-1 exactly once (count, distinct timestamps, sum of values).
check_host() {
	local data=$1 host=$2 series=$3 samples=$4
	"$RMON_BIN/rmon" query "$host/rmon_loadgen_value" --data "$data" --from 0 --to now+1d --format csv |
		awk -F'",' -v want="$samples" -v series="$series" -v host="$host" '
			NR == 1 { next }
			{ split($2, f, ","); key = $1 SUBSEP f[1]; if (key in seen) dup++; seen[key] = 1;
			  n[$1]++; sum[$1] += f[2] }
			END {
				expect = want * (want - 1) / 2; bad = 0; count = 0
				for (s in n) { count++; if (n[s] != want || sum[s] != expect) { bad++; print "series " s ": " n[s] " samples, sum " sum[s] } }
				if (count != series) { print host ": " count " series instead of " series; bad++ }
				if (dup) { print dup " duplicated samples"; bad++ }
				if (bad) exit 1
				print host ": all " series " series complete, " want " samples each, no duplicates"
			}'
}
