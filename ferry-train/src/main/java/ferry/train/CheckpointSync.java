package ferry.train;

import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectListing;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.PassedOver;
import ferry.store.Stores;
import ferry.store.WriteOptions;
import ferry.transfer.ObjectCopy;
import ferry.transfer.Parallel;
import ferry.transfer.SafeKeys;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code CheckpointConfig}: the checkpoints under {@code S3Uri} are restored into the local folder before the
 * process starts, and files the process writes there are uploaded as they change (each time {@link #upload} runs)
 * and once more at the end. A file is uploaded again when its size or modification time changed. Files deleted
 * locally are not deleted from the store. What is not a file (a link to a folder, a named pipe) is passed over, as
 * in any local source.
 */
final class CheckpointSync {
    /**
     * What one pass moved, and the entries of the folder it passed over (not a file) that no pass named before.
     */
    record Counts(long files, long bytes, List<PassedOver> passedOver) {}

    private final Stores stores;
    private final Location uri;
    private final Path folder;
    private final int concurrency;
    /** Each file's version tag (modification time and size) as last uploaded or restored. */
    private final Map<String, String> uploaded = new ConcurrentHashMap<>();
    private final Set<String> passedOver = ConcurrentHashMap.newKeySet();

    CheckpointSync(Stores stores, Location uri, Path folder, int concurrency) {
        this.stores = stores;
        this.uri = uri.asDirectory();
        this.folder = folder;
        this.concurrency = concurrency;
    }

    Location uri() {
        return uri;
    }

    Path folder() {
        return folder;
    }

    /** The checkpoints there are to restore (for the free-space check), listing the store once. */
    List<ObjectInfo> list() throws IOException {
        List<ObjectInfo> objects = new ArrayList<>();
        ObjectListing listing = stores.forLocation(uri).list(uri);
        while (listing.hasNext()) {
            objects.add(listing.next());
        }
        return objects;
    }

    /** Copies every checkpoint under the URI into the folder; the restored files are not uploaded again. */
    Counts restore(List<ObjectInfo> objects) throws IOException, InterruptedException {
        Files.createDirectories(folder);
        SafeKeys safeKeys = new SafeKeys(folder);
        Location root = Location.of(folder).asDirectory();
        ObjectStore local = stores.forLocation(root);
        AtomicLong bytes = new AtomicLong();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        try (Parallel parallel = new Parallel(concurrency)) {
            for (ObjectInfo object : objects) {
                parallel.submit(() -> {
                    String key = uri.relativize(object.location());
                    try {
                        safeKeys.resolve(key);
                        // Checked against the CRC32C the checkpoint carries; a changed size is an error too.
                        bytes.addAndGet(ObjectCopy.copy(stores.forLocation(object.location()), object, local,
                                root.resolve(key)).size());
                        uploaded.put(key, local.stat(root.resolve(key)).etag());
                    } catch (IOException | RuntimeException e) {
                        failures.add(key + ": " + e.getMessage());
                    }
                });
            }
        }
        if (!failures.isEmpty()) {
            failures.sort(null);
            throw new IOException("cannot restore checkpoints from " + uri + " (" + failures.size()
                    + " failed); the first: " + failures.getFirst());
        }
        return new Counts(objects.size(), bytes.get(), List.of());
    }

    /**
     * Uploads the files that are new or changed since the last pass, listing the folder as any local source is
     * listed (a file the process removes meanwhile is not there to upload, not an error).
     */
    Counts upload() throws IOException, InterruptedException {
        if (!Files.isDirectory(folder)) {
            return new Counts(0, 0, List.of());
        }
        Location root = Location.of(folder).asDirectory();
        ObjectStore local = stores.forLocation(root);
        ObjectStore store = stores.forLocation(uri);
        AtomicLong count = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        ObjectListing files = local.list(root);
        try (Parallel parallel = new Parallel(concurrency)) {
            while (files.hasNext()) {
                ObjectInfo file = files.next();
                String key = root.relativize(file.location());
                if (file.etag().equals(uploaded.get(key))) {
                    continue;
                }
                parallel.submit(() -> {
                    try (InputStream in = local.openStream(file.location());
                            ObjectOutput out = store.createOrOverwrite(uri.resolve(key), WriteOptions.DEFAULT)) {
                        bytes.addAndGet(in.transferTo(out));
                        out.commit();
                        uploaded.put(key, file.etag());
                        count.incrementAndGet();
                    } catch (ObjectNotFoundException e) {
                        // deleted by the process since the listing: nothing to upload
                    } catch (IOException | RuntimeException e) {
                        failures.add(key + ": " + e.getMessage());
                    }
                });
            }
        }
        if (!failures.isEmpty()) {
            failures.sort(null);
            throw new IOException("cannot upload checkpoints to " + uri + " (" + failures.size() + " failed); the"
                    + " first: " + failures.getFirst());
        }
        // Named once per job, not at every pass.
        List<PassedOver> fresh = files.passedOver().stream().filter(p -> passedOver.add(p.key())).toList();
        return new Counts(count.get(), bytes.get(), fresh);
    }
}
