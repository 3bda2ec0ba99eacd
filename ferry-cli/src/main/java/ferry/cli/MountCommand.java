package ferry.cli;

import ferry.cache.ChunkCache;
import ferry.dataset.DatasetCatalog;
import ferry.dataset.DatasetRef;
import ferry.dataset.Manifest;
import ferry.mount.Mount;
import ferry.mount.MountOptions;
import ferry.store.Location;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectStore;
import ferry.store.local.RealPaths;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ferry mount}: serves a prefix or a dataset version as a read-only folder until interrupted. */
@Command(name = "mount", mixinStandardHelpOptions = true,
        description = {"Mount a prefix or a dataset version read-only (FastFile): files stream on demand through a"
                + " local chunk cache. Runs until Ctrl-C or SIGTERM, then unmounts.",
                "  ferry mount s3://ml-data/cifar/ /mnt/cifar",
                "  ferry mount --dataset cifar@v3 /mnt/cifar"})
final class MountCommand implements Callable<Integer> {
    @ParentCommand
    Ferry ferry;

    @Option(names = "--dataset", paramLabel = "NAME[@vN]",
            description = "Mount a dataset version: listings and sizes come from its manifest, and every object is"
                    + " checked against its CRC32C.")
    String dataset;

    @Parameters(paramLabel = "[LOCATION] MOUNTPOINT", arity = "1..2",
            description = "The prefix to mount (unless --dataset), then the folder to mount it at.")
    java.util.List<String> arguments;

    @Option(names = "--cache-size", paramLabel = "SIZE", converter = Sizes.Bytes.class,
            description = "The cache's byte budget (default: the one it was last given, else 10GiB).")
    Long cacheSize;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "The cache's folder (default: $FERRY_HOME/cache).")
    Path cacheDir;

    @Option(names = "--metadata-ttl", paramLabel = "AGE", defaultValue = "60s",
            description = "How long a prefix mount trusts a folder listing (default: ${DEFAULT-VALUE}).")
    String metadataTtl;

    @Option(names = "--chunk-size", paramLabel = "SIZE", defaultValue = "1MiB", converter = Sizes.Bytes.class,
            description = "Bytes per ranged GET and per cache entry (default: ${DEFAULT-VALUE}).")
    long chunkSize;

    /**
     * A mount of nothing is more often a mistyped location (or one object's key) than a wish for an empty tree, as
     * cp, cache preload and FastFile channels take it too.
     */
    private static void refuseEmpty(ObjectStore store, Location given, Location prefix) throws IOException {
        if (store.list(prefix).hasNext()) {
            return;
        }
        if (!given.isDirectory() && store.find(given).isPresent()) {
            throw new IllegalArgumentException(given + " is an object, not a prefix: mount the prefix that holds it,"
                    + " such as " + given.toString().substring(0, given.toString().lastIndexOf('/') + 1));
        }
        throw new ObjectNotFoundException(prefix, "nothing to mount: no object at or under " + prefix
                + "; check the location");
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path mountPoint = Path.of(arguments.getLast());
        String location = arguments.size() == 2 ? arguments.getFirst() : null;
        if (dataset != null && location != null) {
            throw new IllegalArgumentException("give either --dataset or a LOCATION to mount, not both");
        }
        if (dataset == null && location == null) {
            throw new IllegalArgumentException("what should be mounted? give a LOCATION before the mount point,"
                    + " or --dataset NAME[@vN]");
        }
        MountOptions options = MountOptions.DEFAULTS
                .withChunkSize(chunkSize)
                .withMetadataTtl(Sizes.parseDuration(metadataTtl));
        Path dir = cacheDir != null ? cacheDir : ferry.home().resolve("cache");
        // A cache inside the mount point is hidden by the mount (every chunk would go uncached); one around it, its
        // chunks: refused before either is made.
        Path realMountPoint = RealPaths.of(mountPoint);
        Path realDir = RealPaths.of(dir);
        if (realDir.startsWith(realMountPoint) || realMountPoint.startsWith(realDir)) {
            throw new IllegalArgumentException("the mount point " + mountPoint + " and the cache folder " + dir
                    + " overlap, and the mount would hide the cache: choose a --cache-dir outside the mount point"
                    + " and a mount point outside the cache");
        }
        long budget = Sizes.cacheBudget(cacheSize, dir);
        ChunkCache cache = ChunkCache.open(dir, budget);
        Mount mount;
        String what;
        try {
            if (dataset != null) {
                DatasetCatalog catalog = new DatasetCatalog(ferry.stores(), ferry.storeLocation(), ferry.clock, 16);
                Manifest manifest = catalog.load(DatasetRef.parse(dataset));
                ObjectStore store = ferry.stores().forLocation(Location.of(manifest.base()));
                mount = Mount.dataset(store, manifest, mountPoint, cache, options, ferry.environment);
                what = manifest.ref() + " (" + manifest.base() + ")";
            } else {
                Location prefix = Location.of(location).asDirectory();
                ObjectStore store = ferry.stores().forLocation(prefix);
                refuseEmpty(store, Location.of(location), prefix);
                mount = Mount.prefix(store, prefix, mountPoint, cache, options, ferry.environment);
                what = prefix.toString();
            }
        } catch (IOException | RuntimeException e) {
            cache.close();
            throw e;
        }
        // Ends on SIGINT/SIGTERM (the shutdown hook unmounts) or when the mount is unmounted from outside.
        CountDownLatch done = new CountDownLatch(1);
        ScheduledExecutorService background = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("ferry-mount-watch").factory());
        background.scheduleWithFixedDelay(cache::flushStats, 10, 10, TimeUnit.SECONDS);
        background.scheduleWithFixedDelay(() -> {
            if (!mount.isMounted()) {
                done.countDown();
            }
        }, 1, 1, TimeUnit.SECONDS);
        Runnable stop = () -> {
            background.shutdownNow();
            mount.close();
            cache.flushStats();
            cache.close();
        };
        Thread unmount = new Thread(() -> {
            stop.run();
            done.countDown();
        }, "ferry-unmount");
        Runtime.getRuntime().addShutdownHook(unmount);
        ferry.out.printf("mounted %s at %s (cache %s, budget %s); Ctrl-C unmounts%n", what, mount.mountPoint(),
                dir, Units.bytes(budget));
        ferry.out.flush();
        done.await();
        try {
            Runtime.getRuntime().removeShutdownHook(unmount);
        } catch (IllegalStateException shuttingDown) {
            return Ferry.OK; // a signal: the hook unmounts
        }
        stop.run();
        ferry.out.printf("%s was unmounted from outside; stopped%n", mount.mountPoint());
        return Ferry.OK;
    }
}
