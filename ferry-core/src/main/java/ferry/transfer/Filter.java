package ferry.transfer;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Which objects a transfer considers, by key, size and age. Globs follow the usual shell rules: {@code *} and
 * {@code ?} stay within one path segment, {@code **} crosses segments, {@code {a,b}} and {@code [a-z]} work. A
 * glob without a {@code /} matches an object's file name at any depth ({@code *.tmp}); one with a {@code /}
 * matches the whole key below the prefix ({@code train/**}, or {@code /train/**} as rsync and rclone write it). An
 * object is taken when it matches some include (or there are none) and no exclude, and fits the size and age bounds.
 *
 * @param includes globs an object must match one of; empty for all
 * @param excludes globs an object must match none of
 * @param minSize smallest size taken, in bytes (0 for no bound)
 * @param maxSize largest size taken, in bytes ({@link Long#MAX_VALUE} for no bound)
 * @param newerThan only objects modified after this instant, or {@code null}
 */
public record Filter(List<String> includes, List<String> excludes, long minSize, long maxSize, Instant newerThan) {
    public static final Filter ALL = new Filter(List.of(), List.of(), 0, Long.MAX_VALUE, null);

    public Filter {
        includes = List.copyOf(includes);
        excludes = List.copyOf(excludes);
        if (minSize < 0 || maxSize < minSize) {
            throw new IllegalArgumentException("size bounds must satisfy 0 <= min-size <= max-size, were " + minSize
                    + " and " + maxSize);
        }
        compile(includes);
        compile(excludes);
    }

    private static List<Glob> compile(List<String> globs) {
        List<Glob> compiled = new ArrayList<>();
        for (String glob : globs) {
            if (glob.isEmpty()) {
                throw new IllegalArgumentException("an empty glob matches nothing: give a pattern such as '*.tmp'");
            }
            // Keys never end in '/', so such a glob would match nothing, silently, and --delete would then remove
            // what it was meant to keep.
            if (glob.endsWith("/")) {
                throw new IllegalArgumentException("glob '" + glob + "' ends in '/' and matches no key: for what is"
                        + " in a folder write '" + (glob.equals("/") ? "" : glob) + "**'");
            }
            // A leading '/' anchors the glob at the root, as in rsync's and rclone's filters.
            String pattern = glob.startsWith("/") ? glob.substring(1) : glob;
            try {
                PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
                compiled.add(new Glob(matcher, glob.contains("/")));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("bad glob '" + glob + "': " + e.getMessage(), e);
            }
        }
        return compiled;
    }

    private record Glob(PathMatcher matcher, boolean wholeKey) {
        boolean matches(String key) {
            Path path = Path.of(key);
            return matcher.matches(wholeKey ? path : path.getFileName());
        }
    }

    /**
     * The filters as the command line gives them ({@code --include '*.jpg' --min-size 1024}), to name them in a
     * message; empty for none.
     */
    public String describe() {
        List<String> flags = new ArrayList<>();
        includes.forEach(glob -> flags.add("--include '" + glob + "'"));
        excludes.forEach(glob -> flags.add("--exclude '" + glob + "'"));
        if (minSize > 0) {
            flags.add("--min-size " + minSize);
        }
        if (maxSize != Long.MAX_VALUE) {
            flags.add("--max-size " + maxSize);
        }
        if (newerThan != null) {
            flags.add("--newer-than " + newerThan);
        }
        return String.join(" ", flags);
    }

    /** A compiled filter, ready to test many keys. */
    public Predicate compile() {
        List<Glob> in = compile(includes);
        List<Glob> out = compile(excludes);
        return new Predicate() {
            @Override
            public boolean inScope(String key) {
                return (in.isEmpty() || in.stream().anyMatch(g -> g.matches(key)))
                        && out.stream().noneMatch(g -> g.matches(key));
            }

            @Override
            public boolean test(String key, long size, Instant lastModified) {
                return size >= minSize && size <= maxSize
                        && (newerThan == null || lastModified.isAfter(newerThan))
                        && inScope(key);
            }
        };
    }

    /**
     * Whether an object is taken. The globs draw the scope, on both sides of a sync (what {@code --delete} may
     * remove); the size and age bounds only choose which objects in scope are copied, since a destination's copy has
     * its own time and may have an older size.
     */
    public interface Predicate {
        /** Whether the key is within the globs. */
        boolean inScope(String key);

        /** Whether the object is in scope and within the size and age bounds. */
        boolean test(String key, long size, Instant lastModified);
    }
}
