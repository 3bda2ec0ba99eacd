package ferry.train.channel;

import ferry.cache.ChunkCache;
import ferry.mount.MountOptions;
import ferry.store.Stores;
import java.io.Closeable;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The FastFile channels of one job and the chunk cache they read through. The cache is the one {@code ferry mount}
 * and {@code ferry cache} use, so a {@code ferry cache preload} before the job, or an earlier job, warms it.
 *
 * <p>{@link #close} unmounts every channel and closes the cache; it is safe to call more than once and from a
 * shutdown hook while the job's thread is still running. A channel mounted after close is refused, so nothing is
 * left mounted whatever the order.
 */
public final class FastFileMounts implements Closeable {
    /** The cache budget when none is given: {@code ferry mount}'s default. */
    public static final long DEFAULT_CACHE_BUDGET = 10L << 30;

    private final Path cacheDir;
    private final long cacheBudget;
    private final Stores stores;
    private final Map<String, String> environment;
    private final Clock clock;
    private final Consumer<String> log;
    private final List<FastFileChannel> channels = new ArrayList<>();
    private ChunkCache cache;
    private boolean closed;

    /**
     * @param cacheDir the chunk cache's folder ({@code $FERRY_HOME/cache})
     * @param environment where {@code FERRY_LIBFUSE} may name libfuse3
     * @param log hears a line for each channel unmounted, and for each unmount that failed
     */
    public FastFileMounts(Path cacheDir, long cacheBudget, Stores stores, Map<String, String> environment,
            Clock clock, Consumer<String> log) {
        this.cacheDir = cacheDir;
        this.cacheBudget = cacheBudget;
        this.stores = stores;
        this.environment = Map.copyOf(environment);
        this.clock = clock;
        this.log = log;
    }

    /**
     * What keeps FastFile from working on this machine, for preflight, or {@code null} when FUSE is there: the
     * {@code /dev/fuse} device and the libfuse3 library.
     */
    public static String fuseProblem(Map<String, String> environment) {
        if (!Files.exists(Path.of("/dev/fuse"))) {
            return "FastFile needs FUSE, but /dev/fuse does not exist: load the module (modprobe fuse), or in a"
                    + " container pass the device (--device /dev/fuse --cap-add SYS_ADMIN); or use InputMode File";
        }
        String configured = environment.get("FERRY_LIBFUSE");
        if (configured != null && !configured.isBlank()) {
            return null; // the mount checks the file and names it if it is wrong
        }
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup("libfuse3.so.3", arena); // as the dynamic loader finds it
            return null;
        } catch (IllegalArgumentException e) {
            return "FastFile needs FUSE, but libfuse3 is not installed: install it (Debian and Ubuntu: apt-get"
                    + " install fuse3; Fedora: dnf install fuse3) or set FERRY_LIBFUSE to the path of"
                    + " libfuse3.so.3; or use InputMode File";
        }
    }

    public Path cacheDir() {
        return cacheDir;
    }

    /** Mounts one channel at {@code folder}, opening the cache with the first. */
    public synchronized FastFileChannel mount(FastFilePlan plan, Path folder) throws IOException {
        if (closed) {
            throw new ChannelException(plan.channel(), "not mounted: the job is ending");
        }
        if (cache == null) {
            try {
                cache = ChunkCache.open(cacheDir, cacheBudget);
            } catch (IOException | IllegalArgumentException e) { // a folder that is not a cache, among others
                throw new ChannelException(plan.channel(), "cannot open the FastFile cache: " + e.getMessage(), e);
            }
        }
        FastFileChannel channel = FastFileChannel.mount(plan, folder, stores, cache, MountOptions.DEFAULTS,
                environment, clock);
        channels.add(channel);
        return channel;
    }

    public synchronized List<FastFileChannel> channels() {
        return List.copyOf(channels);
    }

    /** Unmounts every channel, then saves the cache's counters and closes it. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (FastFileChannel channel : channels) {
            try {
                channel.close();
                log.accept("channel " + channel.channel() + ": unmounted " + channel.mountPoint());
            } catch (IOException | RuntimeException e) {
                log.accept("channel " + channel.channel() + ": unmounting failed: " + e.getMessage());
            }
        }
        if (cache != null) {
            cache.flushStats();
            cache.close();
        }
    }
}
