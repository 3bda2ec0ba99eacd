package ferry.cli;

import ferry.cache.CacheStatus;
import ferry.cache.ChunkCache;
import ferry.dataset.DatasetCatalog;
import ferry.dataset.DatasetRef;
import ferry.dataset.Manifest;
import ferry.mount.MountOptions;
import ferry.mount.Preload;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectListing;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;

/** {@code ferry cache}: the FastFile chunk cache that mounts read through. */
@Command(name = "cache", mixinStandardHelpOptions = true,
        description = "The local chunk cache that FastFile mounts read through.",
        subcommands = {CacheCommand.PreloadCommand.class, CacheCommand.StatusCommand.class,
                CacheCommand.ClearCommand.class})
final class CacheCommand {
    @ParentCommand
    Ferry ferry;

    @Option(names = "--cache-dir", paramLabel = "DIR", scope = ScopeType.INHERIT,
            description = "The cache's folder (default: $FERRY_HOME/cache).")
    Path cacheDir;

    @Option(names = "--cache-size", paramLabel = "SIZE", converter = Sizes.Bytes.class, scope = ScopeType.INHERIT,
            description = "The cache's byte budget (default: the one it was last given, else 10GiB).")
    Long cacheSize;

    ChunkCache open() throws IOException {
        return ChunkCache.open(dir(), budget());
    }

    Path dir() {
        return cacheDir != null ? cacheDir : ferry.home().resolve("cache");
    }

    long budget() {
        return Sizes.cacheBudget(cacheSize, dir());
    }

    /** The cache, for a command that only looks at it or empties it: a --cache-dir that is not there is a typo. */
    ChunkCache openExisting() throws IOException {
        if (cacheDir != null && !Files.isDirectory(cacheDir)) {
            throw new IllegalArgumentException("no cache folder at " + cacheDir + ": check --cache-dir (a mount or"
                    + " `ferry cache preload` creates one)");
        }
        return open();
    }

    @Command(name = "preload", mixinStandardHelpOptions = true,
            description = "Fetch every object of a prefix or a dataset version into the cache, ahead of a job; fails,"
                    + " fetching nothing, if they do not fit the cache's budget.")
    static final class PreloadCommand implements Callable<Integer> {
        @ParentCommand
        CacheCommand cache;

        @Parameters(paramLabel = "LOCATION", arity = "0..1", description = "The prefix to preload.")
        String location;

        @Option(names = "--dataset", paramLabel = "NAME[@vN]", description = "Preload a dataset version instead.")
        String dataset;

        @Option(names = {"-j", "--concurrency"}, defaultValue = "16",
                description = "Objects fetched at once (default: ${DEFAULT-VALUE}).")
        int concurrency;

        @Option(names = "--chunk-size", paramLabel = "SIZE", defaultValue = "1MiB", converter = Sizes.Bytes.class,
                description = "The chunk size of the mounts that will read it (default: ${DEFAULT-VALUE}).")
        long chunkSize;

        @Option(names = "--json", description = "Print the report as JSON.")
        boolean json;

        /** Lists the objects to preload: once to measure them, once to fetch them, so that no listing is held. */
        private interface Source {
            ObjectListing list() throws IOException;
        }

        @Override
        public Integer call() throws IOException, InterruptedException {
            Ferry ferry = cache.ferry;
            if ((location == null) == (dataset == null)) {
                throw new IllegalArgumentException("give either a LOCATION or --dataset NAME[@vN] to preload");
            }
            ObjectStore store;
            Source objects;
            Location where;
            String what;
            if (dataset != null) {
                DatasetCatalog catalog = new DatasetCatalog(ferry.stores(), ferry.storeLocation(), ferry.clock, 16);
                Manifest manifest = catalog.load(DatasetRef.parse(dataset));
                Location base = Location.of(manifest.base());
                store = ferry.stores().forLocation(base);
                List<ObjectInfo> entries = manifest.entries().stream()
                        .map(e -> new ObjectInfo(base.resolve(e.key()), e.size(), e.lastModified(), e.etag(),
                                e.crc32c()))
                        .toList();
                objects = () -> Preload.of(entries);
                where = base;
                what = manifest.ref().toString();
            } else {
                Location prefix = Location.of(location);
                store = ferry.stores().forLocation(prefix);
                objects = () -> store.list(prefix);
                where = prefix;
                what = prefix.toString();
            }
            ObjectListing measured = objects.list();
            if (!measured.hasNext()) { // as cp, ls and sync: a typo'd prefix is an error, not an empty success
                throw new ObjectNotFoundException(where, "nothing to preload: " + (dataset != null
                        ? "dataset " + what + " has no objects" : "no object at or under " + what));
            }
            MountOptions options = MountOptions.DEFAULTS.withChunkSize(chunkSize);
            long start = System.nanoTime();
            Preload.Report report;
            // Objects that do not fit would evict one another while they load, and the job would fetch them all
            // again: refuse before fetching anything. The cache is measured under the budget it has, so that a
            // refused preload given a smaller one has not trimmed what it holds.
            long budget = cache.budget();
            long held = Math.max(budget, ChunkCache.recordedBudget(cache.dir(), budget));
            try (ChunkCache chunks = ChunkCache.open(cache.dir(), held)) {
                Preload.Need need = Preload.measure(measured, chunks, options);
                if (need.space() > budget) {
                    throw new IOException("cannot preload " + what + ": its " + Units.count(need.objects())
                            + " objects (" + Units.bytes(need.bytes()) + ") take " + Units.bytes(need.space())
                            + " of disk space in the cache, but the cache's budget is " + Units.bytes(budget)
                            + "; nothing was fetched: give --cache-size " + Sizes.atLeast(need.space())
                            + " or more, or preload less");
                }
            }
            try (ChunkCache chunks = ChunkCache.open(cache.dir(), budget)) {
                report = Preload.run(store, objects.list(), chunks, options, concurrency, dataset != null);
                chunks.flushStats();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("source", what);
                out.put("objects", report.objects());
                out.put("bytes", report.bytes());
                out.put("fetchedBytes", report.fetched());
                out.put("seconds", seconds);
                out.put("failures", report.failures());
                Json.print(ferry.out, out);
            } else {
                int failed = report.failures().size();
                ferry.out.printf("%s %s: %s objects, %s (%s fetched, the rest already cached)%s in %.2f s%n",
                        failed == 0 ? "preloaded" : "preload of", what, Units.count(report.objects()),
                        Units.bytes(report.bytes()), Units.bytes(report.fetched()),
                        failed == 0 ? "" : "; " + Units.count(failed) + " of them failed (below)", seconds);
                report.failures().forEach(f -> ferry.err.println("failed: " + f));
            }
            return report.failures().isEmpty() ? Ferry.OK : Ferry.FAILED;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Show the cache's size, budget, hit ratio and what it holds per prefix.")
    static final class StatusCommand implements Callable<Integer> {
        @ParentCommand
        CacheCommand cache;

        @Option(names = "--depth", defaultValue = "1",
                description = "Folders below the bucket to group by (default: ${DEFAULT-VALUE}).")
        int depth;

        @Option(names = "--dataset", paramLabel = "NAME[@vN]",
                description = "Also show how much of a dataset version is cached.")
        String dataset;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            Ferry ferry = cache.ferry;
            CacheStatus status;
            try (ChunkCache chunks = cache.openExisting()) {
                status = chunks.status();
            }
            Map<String, Long> byPrefix = status.bytesByPrefix(depth);
            Map<String, Object> datasetRow = null;
            if (dataset != null) {
                Manifest manifest = new DatasetCatalog(ferry.stores(), ferry.storeLocation(), ferry.clock, 16)
                        .load(DatasetRef.parse(dataset));
                Location base = Location.of(manifest.base());
                long cached = 0;
                for (Manifest.Entry entry : manifest.entries()) {
                    // chunk files carry a small trailer each: never count more than the object itself
                    cached += Math.min(entry.size(),
                            status.bytesByLocation().getOrDefault(base.resolve(entry.key()).toString(), 0L));
                }
                datasetRow = new LinkedHashMap<>();
                datasetRow.put("dataset", manifest.ref().toString());
                datasetRow.put("bytes", manifest.summary().bytes());
                datasetRow.put("cachedBytes", cached);
            }
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("dir", status.dir().toString());
                out.put("budgetBytes", status.budgetBytes());
                out.put("usedBytes", status.usedBytes());
                out.put("chunks", status.chunkCount());
                out.put("hits", status.allTime().hits());
                out.put("misses", status.allTime().misses());
                out.put("hitRatio", status.allTime().hitRatio());
                out.put("evictions", status.allTime().evictions());
                out.put("corruptDropped", status.allTime().corruptDropped());
                out.put("bytesByPrefix", byPrefix);
                if (datasetRow != null) {
                    out.put("dataset", datasetRow);
                }
                Json.print(ferry.out, out);
                return Ferry.OK;
            }
            ferry.out.println("cache:     " + status.dir());
            ferry.out.printf("used:      %s of %s (%s chunks)%n", Units.bytes(status.usedBytes()),
                    Units.bytes(status.budgetBytes()), Units.count(status.chunkCount()));
            ferry.out.printf("hit ratio: %.1f%% (%s hits, %s misses)%n", 100 * status.allTime().hitRatio(),
                    Units.count(status.allTime().hits()), Units.count(status.allTime().misses()));
            ferry.out.printf("evicted:   %s chunks; corrupt chunks dropped: %s%n",
                    Units.count(status.allTime().evictions()), Units.count(status.allTime().corruptDropped()));
            if (datasetRow != null) {
                long bytes = (Long) datasetRow.get("bytes");
                long cached = (Long) datasetRow.get("cachedBytes");
                ferry.out.printf("dataset:   %s: %s of %s cached (%.1f%%)%n", datasetRow.get("dataset"),
                        Units.bytes(cached), Units.bytes(bytes), bytes == 0 ? 100.0 : 100.0 * cached / bytes);
            }
            if (!byPrefix.isEmpty()) {
                ferry.out.printf("%12s  %s%n", "CACHED", "PREFIX");
                byPrefix.forEach((prefix, bytes) -> ferry.out.printf("%12s  %s%n", Units.bytes(bytes), prefix));
            }
            return Ferry.OK;
        }
    }

    @Command(name = "clear", mixinStandardHelpOptions = true, description = "Delete every cached chunk.")
    static final class ClearCommand implements Callable<Integer> {
        @ParentCommand
        CacheCommand cache;

        @Override
        public Integer call() throws IOException {
            try (ChunkCache chunks = cache.openExisting()) {
                long used = chunks.status().usedBytes();
                chunks.clear();
                cache.ferry.out.println("cleared " + Units.bytes(used) + " from " + chunks.status().dir());
            }
            return Ferry.OK;
        }
    }
}
