package ferry.train.channel;

import ferry.cache.ChunkCache;
import ferry.dataset.Manifest;
import ferry.mount.Mount;
import ferry.mount.MountOptions;
import ferry.store.ObjectListing;
import ferry.store.ObjectStore;
import ferry.store.Stores;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * FastFile mode: a channel mounted read-only at its folder (a FUSE mount served by this JVM, see
 * {@code ferry.mount.Mount}) for the life of the job, instead of being staged: the process starts at once and each
 * file is fetched in chunks, through the shared chunk cache, as the process reads it.
 */
public final class FastFileChannel implements Closeable {
    private final FastFilePlan plan;
    private final ObjectStore store;
    private final CountingStore counting;
    private final Mount mount;
    private final Duration elapsed;

    private FastFileChannel(FastFilePlan plan, ObjectStore store, CountingStore counting, Mount mount,
            Duration elapsed) {
        this.plan = plan;
        this.store = store;
        this.counting = counting;
        this.mount = mount;
        this.elapsed = elapsed;
    }

    /** Mounts the plan's prefix or manifest at {@code folder}; a failure names the channel and what to do. */
    static FastFileChannel mount(FastFilePlan plan, Path folder, Stores stores, ChunkCache cache,
            MountOptions options, Map<String, String> environment, Clock clock) throws ChannelException {
        Instant start = clock.instant();
        try {
            ObjectStore store = stores.forLocation(plan.source());
            CountingStore counting = new CountingStore(store);
            Mount mount = plan.manifest() != null
                    ? Mount.dataset(counting, plan.manifest(), folder, cache, options, environment)
                    : Mount.prefix(counting, plan.prefix(), folder, cache, options, environment);
            return new FastFileChannel(plan, store, counting, mount, Duration.between(start, clock.instant()));
        } catch (IOException | RuntimeException e) {
            throw new ChannelException(plan.channel(), "cannot mount " + plan.source() + " (FastFile): "
                    + e.getMessage() + "; or use InputMode File to stage the channel instead", e);
        }
    }

    public String channel() {
        return plan.channel();
    }

    public FastFilePlan plan() {
        return plan;
    }

    public Path mountPoint() {
        return mount.mountPoint();
    }

    /** How long mounting took: all the process waited for this channel. */
    public Duration elapsed() {
        return elapsed;
    }

    /** Bytes read from the store so far: what the cache did not hold, read ahead included. */
    public long bytesFetched() {
        return counting.bytesRead();
    }

    /** Files and bytes a channel offers. */
    public record Totals(long files, long bytes) {}

    /**
     * What the channel offers: from the plan's manifest, or for a live prefix from a listing of the store (not of the
     * mount, which the process may be reading). A live prefix is listed whole, so call it beside the training.
     */
    public Totals offered() throws IOException {
        long files = 0;
        long bytes = 0;
        if (plan.manifest() != null) {
            for (Manifest.Entry entry : plan.manifest().entries()) {
                files++;
                bytes += entry.size();
            }
        } else {
            ObjectListing listing = store.list(plan.prefix());
            while (listing.hasNext()) {
                files++;
                bytes += listing.next().size();
            }
        }
        return new Totals(files, bytes);
    }

    /** What the channel offered and, so far, fetched. */
    public ChannelStats stats(Totals offered) {
        return new ChannelStats(plan.channel(), ChannelSpec.FAST_FILE, plan.source().toString(), offered.files(),
                offered.bytes(), elapsed, bytesFetched());
    }

    /**
     * Unmounts; reads in progress fail. Safe to call more than once. Should the mount outlive its own unmount (it
     * logs why), it is detached here, so that nothing stays mounted in the job folder.
     */
    @Override
    public void close() throws IOException {
        mount.close();
        MountTable.detachAllUnder(mount.mountPoint());
    }
}
