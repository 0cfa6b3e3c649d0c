package io.bpfcharge.migrate;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * What a migration did (or, for a dry run, would do).
 * @param result ok, noop or dry_run
 * @param plan the plan it followed
 * @param newId the replacement's id; 0 when none was made
 * @param phases wall time per step, in order
 * @param usage the memory cgroups' usage: "source_before", "source_after", "target_before", "target_after"
 * @param oldFreed the old map was freed (and its memcg uncharged) within the wait
 * @param recovered one line per interrupted migration this run finished or undid first
 */
public record MigrationResult(String result, Plan plan, int oldId, int newId, String source, String target,
                              long entries, long bytes, long merged, Map<String, Duration> phases,
                              Map<String, OptionalLong> usage, boolean oldFreed, List<String> recovered) {}
