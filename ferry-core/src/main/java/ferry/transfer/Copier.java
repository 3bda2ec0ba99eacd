package ferry.transfer;

import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectListing;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectStore;
import ferry.store.PassedOver;
import ferry.store.Stores;
import ferry.store.local.LocalStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Copies one object, or every object under a prefix, between any two locations (local to S3, S3 to local, and
 * so on), many at once. Each object is written atomically at its destination and checked against the checksum
 * its source recorded, when it recorded one. A failed object is reported by key; the others go on.
 */
public final class Copier {
    /**
     * @param concurrency objects in flight at once
     * @param followLinks walk into a local source's symbolic links to folders (else they are passed over)
     */
    public record Options(int concurrency, boolean followLinks) {
        public static final Options DEFAULT = new Options(64, false);

        public Options {
            if (concurrency < 1 || concurrency > 4096) {
                throw new IllegalArgumentException("concurrency must be between 1 and 4096, was " + concurrency);
            }
        }
    }

    private final Stores stores;
    private final Options options;
    private final Clock clock;

    public Copier(Stores stores, Options options, Clock clock) {
        this.stores = stores;
        this.options = options;
        this.clock = clock;
    }

    /**
     * Copies {@code source} to {@code destination}. A source that names an object is copied to the destination
     * (into it, when the destination is a folder); any other source is taken as a folder and its contents are
     * copied below the destination, keeping their keys, as {@code aws s3 cp --recursive} and {@code rclone copy}
     * do.
     *
     * @throws ObjectNotFoundException when nothing exists at the source
     */
    public CopyReport copy(Location source, Location destination, TransferListener listener)
            throws IOException, InterruptedException {
        Instant start = clock.instant();
        ObjectStore from = stores.forLocation(source);
        ObjectStore to = stores.forLocation(destination);
        List<Failure> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicLong objects = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        List<PassedOver> passedOver = List.of();
        Set<Path> tidied = ConcurrentHashMap.newKeySet();

        ObjectInfo single = source.isDirectory() ? null : from.find(source).orElse(null);
        if (single != null) {
            Location target = destination.isDirectory() || isLocalFolder(destination)
                    ? destination.resolve(source.name())
                    : destination;
            copyOne(from, to, single, target, source.name(), null, tidied, failures, objects, bytes, listener);
        } else {
            Location prefix = source.asDirectory();
            Location destinationPrefix = destination.asDirectory();
            if (Syncer.within(destinationPrefix, prefix)) {
                throw new IllegalArgumentException("cannot copy " + prefix + " into itself (" + destinationPrefix
                        + " is inside it): what is copied would be listed and copied again; give a destination"
                        + " outside the source");
            }
            ObjectListing listing = options.followLinks() ? from.listFollowingLinks(prefix, destinationPrefix)
                    : from.list(prefix);
            if (!listing.hasNext()) {
                throw new ObjectNotFoundException(source, "nothing to copy: no object at or under " + source);
            }
            SafeKeys safeKeys = destination.isLocal() ? new SafeKeys(destination.toPath()) : null;
            try (Parallel parallel = new Parallel(options.concurrency())) {
                while (listing.hasNext()) {
                    ObjectInfo object = listing.next();
                    String key = prefix.relativize(object.location());
                    parallel.submit(() -> copyOne(from, to, object, destinationPrefix.resolve(key), key, safeKeys,
                            tidied, failures, objects, bytes, listener));
                }
            }
            passedOver = List.copyOf(listing.passedOver());
            passedOver.forEach(listener::passedOver);
        }
        List<Failure> sorted = new ArrayList<>(failures);
        sorted.sort(java.util.Comparator.comparing(Failure::key));
        return new CopyReport(source.toString(), destination.toString(), objects.get(), bytes.get(),
                List.copyOf(sorted), passedOver, Duration.between(start, clock.instant()));
    }

    /**
     * Once for each folder a copy writes in a local destination: removes the temporary files a copy killed there left
     * (a sync's listing of its destination does that, but a copy lists only its source).
     */
    private static void tidy(Location target, Set<Path> tidied) {
        if (target.isLocal() && tidied.add(target.toPath().getParent())) {
            LocalStore.removeAbandonedTemps(target.toPath().getParent());
        }
    }

    private static boolean isLocalFolder(Location location) {
        return location.isLocal() && java.nio.file.Files.isDirectory(location.toPath());
    }

    private static void copyOne(
            ObjectStore from,
            ObjectStore to,
            ObjectInfo object,
            Location target,
            String key,
            SafeKeys safeKeys,
            Set<Path> tidied,
            List<Failure> failures,
            AtomicLong objects,
            AtomicLong bytes,
            TransferListener listener) {
        try {
            if (safeKeys != null) {
                safeKeys.resolve(key);
            }
            tidy(target, tidied); // once the key is known to stay in its folder
            ObjectCopy.copy(from, object, to, target, RateLimiter.UNLIMITED, false);
            objects.incrementAndGet();
            bytes.addAndGet(object.size());
            listener.objectDone(key, object.size());
        } catch (IOException | RuntimeException e) {
            failures.add(Failure.of(key, e));
            listener.objectFailed(key, e);
        }
    }
}
