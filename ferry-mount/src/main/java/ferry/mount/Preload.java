package ferry.mount;

import ferry.cache.ChunkCache;
import ferry.store.ObjectInfo;
import ferry.store.ObjectListing;
import ferry.store.ObjectStore;
import ferry.transfer.Parallel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fills the cache ahead of a job (the analogue of FSx for Lustre's hsm_restore): every chunk of every object not yet
 * cached is fetched and checked exactly as a mount would, many objects at once.
 */
public final class Preload {
    /**
     * @param objects how many objects were considered
     * @param bytes their total size
     * @param fetched the bytes fetched (the rest were cached already)
     * @param failures one line per object that could not be loaded, naming it
     */
    public record Report(long objects, long bytes, long fetched, List<String> failures) {}

    /**
     * What a preload asks of the cache.
     *
     * @param objects how many objects there are
     * @param bytes their total size
     * @param space the disk space their chunks take in the cache, which the budget must hold
     */
    public record Need(long objects, long bytes, long space) {}

    private static final int CHUNKS_PER_OBJECT = 8;

    private Preload() {}

    /**
     * Counts what preloading the objects of a listing or a manifest needs, fetching nothing, so that a preload that
     * cannot fit the budget fails before it starts instead of evicting what it has just fetched.
     */
    public static Need measure(ObjectListing objects, ChunkCache cache, MountOptions options) throws IOException {
        long count = 0;
        long bytes = 0;
        long space = 0;
        while (objects.hasNext()) {
            ObjectInfo object = objects.next();
            count++;
            bytes += object.size();
            space += cache.space(ChunkReader.objectId(object, options.chunkSize()), object.location().toString(),
                    object.size(), options.chunkSize());
        }
        return new Need(count, bytes, space);
    }

    /**
     * Preloads the objects of a listing or a manifest ({@code datasetVersion}) with {@code concurrency} objects in
     * flight.
     */
    public static Report run(ObjectStore store, ObjectListing objects, ChunkCache cache, MountOptions options,
            int concurrency, boolean datasetVersion) throws IOException, InterruptedException {
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicLong fetched = new AtomicLong();
        long count = 0;
        long bytes = 0;
        try (ChunkReader reader = new ChunkReader(store, cache, options.chunkSize(), 0, 0);
                Parallel parallel = new Parallel(concurrency)) {
            while (objects.hasNext()) {
                ObjectInfo object = objects.next();
                count++;
                bytes += object.size();
                parallel.submit(() -> {
                    try {
                        fetched.addAndGet(reader.preload(object, CHUNKS_PER_OBJECT));
                    } catch (ObjectChangedException e) {
                        // Reopening it or mounting a dataset version, as a prefix mount is told, cannot bring back a
                        // dataset version's object.
                        failures.add(datasetVersion ? e.inDatasetVersion() : object.location() + ": " + e.getMessage());
                    } catch (IOException e) {
                        failures.add(object.location() + ": " + e.getMessage());
                    }
                });
            }
        }
        return new Report(count, bytes, fetched.get(), List.copyOf(failures));
    }

    /** A manifest's entries as a listing, so a dataset version preloads like a prefix. */
    public static ObjectListing of(List<ObjectInfo> objects) {
        var iterator = objects.iterator();
        return new ObjectListing() {
            @Override
            public boolean hasNext() {
                return iterator.hasNext();
            }

            @Override
            public ObjectInfo next() {
                return iterator.next();
            }
        };
    }
}
