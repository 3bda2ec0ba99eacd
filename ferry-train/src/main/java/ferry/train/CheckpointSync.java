package ferry.train;

import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectListing;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.Stores;
import ferry.store.WriteOptions;
import ferry.transfer.ObjectCopy;
import ferry.transfer.Parallel;
import ferry.transfer.SafeKeys;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code CheckpointConfig}: the checkpoints under {@code S3Uri} are restored into the local folder before the
 * process starts, and files the process writes there are uploaded as they change (each time {@link #upload} runs)
 * and once more at the end. A file is uploaded again when its size or modification time changed. Files deleted
 * locally are not deleted from the store.
 */
final class CheckpointSync {
    /** What one pass moved. */
    record Counts(long files, long bytes) {}

    private final Stores stores;
    private final Location uri;
    private final Path folder;
    private final int concurrency;
    private final Map<String, String> uploaded = new ConcurrentHashMap<>();

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
                        Path file = safeKeys.resolve(key);
                        // Checked against the CRC32C the checkpoint carries; a changed size is an error too.
                        bytes.addAndGet(ObjectCopy.copy(stores.forLocation(object.location()), object, local,
                                root.resolve(key)).size());
                        uploaded.put(key, signature(file));
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
        return new Counts(objects.size(), bytes.get());
    }

    /** Uploads the files that are new or changed since the last pass. */
    Counts upload() throws IOException, InterruptedException {
        if (!Files.isDirectory(folder)) {
            return new Counts(0, 0);
        }
        List<Path> files = filesIn(folder);
        ObjectStore store = stores.forLocation(uri);
        AtomicLong count = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        try (Parallel parallel = new Parallel(concurrency)) {
            for (Path file : files) {
                String key = folder.relativize(file).toString();
                if (key.endsWith(ferry.store.local.LocalStore.TEMP_SUFFIX)) {
                    continue;
                }
                parallel.submit(() -> {
                    try {
                        String signature = signature(file);
                        if (signature.equals(uploaded.get(key))) {
                            return;
                        }
                        try (InputStream in = Files.newInputStream(file);
                                ObjectOutput out = store.createOrOverwrite(uri.resolve(key), WriteOptions.DEFAULT)) {
                            bytes.addAndGet(in.transferTo(out));
                            out.commit();
                        }
                        uploaded.put(key, signature);
                        count.incrementAndGet();
                    } catch (NoSuchFileException e) {
                        // deleted by the process since the walk: nothing to upload
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
        return new Counts(count.get(), bytes.get());
    }

    /**
     * The files under a folder the training script is changing as we look: a file or folder it removes meanwhile (an
     * old checkpoint deleted, a file replaced by a rename) is not there to upload, not an error.
     */
    private static List<Path> filesIn(Path folder) throws IOException {
        List<Path> files = new ArrayList<>();
        Files.walkFileTree(folder, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                if (attributes.isRegularFile() || attributes.isSymbolicLink() && Files.isRegularFile(file)) {
                    files.add(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e == null || e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
        files.sort(null);
        return files;
    }

    private static String signature(Path file) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        return attributes.size() + "@" + attributes.lastModifiedTime().toMillis();
    }
}
