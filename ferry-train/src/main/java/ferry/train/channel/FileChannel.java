package ferry.train.channel;

import ferry.store.Location;
import ferry.store.ObjectInputStream;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.Stores;
import ferry.store.WriteOptions;
import ferry.transfer.Parallel;
import ferry.transfer.SafeKeys;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * File mode: a channel's objects copied to its folder before the process starts, many at once. Every file is
 * written under a temporary name and renamed, and checked against the CRC32C its store recorded when it recorded
 * one. A key that would escape the folder is refused by name.
 */
public final class FileChannel {
    private FileChannel() {}

    /**
     * Stages the plan's objects into {@code folder}; a failure names the channel and the first failed key. Once
     * {@code stopRequested} is true no further object is started: a job being stopped does not wait for a large
     * channel to arrive whole. The objects staged by then are counted in the result.
     */
    public static ChannelStats stage(ChannelPlan plan, String source, Path folder, Stores stores, int concurrency,
            Clock clock, BooleanSupplier stopRequested) throws IOException, InterruptedException {
        Instant start = clock.instant();
        SafeKeys safeKeys = new SafeKeys(folder);
        Location root = Location.of(folder).asDirectory();
        ObjectStore local = stores.forLocation(root);
        AtomicLong files = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        try (Parallel parallel = new Parallel(concurrency)) {
            for (SourceObject object : plan.objects()) {
                if (stopRequested.getAsBoolean()) {
                    break;
                }
                parallel.submit(() -> {
                    try {
                        safeKeys.resolve(object.key());
                        Location target = root.resolve(object.key());
                        try (InputStream in = object.content() != null
                                ? new java.io.ByteArrayInputStream(object.content())
                                : stores.forLocation(object.location()).openStream(object.location())) {
                            // The CRC32C the object carries (S3 metadata Ferry wrote) arrives with its first bytes:
                            // the staged file is not committed unless its bytes match it.
                            String crc32c = object.crc32c() == null && in instanceof ObjectInputStream stream
                                    ? stream.info().crc32c() : object.crc32c();
                            try (ObjectOutput out = local.createOrOverwrite(target,
                                    new WriteOptions(crc32c, object.size()))) {
                                long copied = in.transferTo(out);
                                out.commit();
                                bytes.addAndGet(copied);
                            }
                        }
                        files.incrementAndGet();
                    } catch (IOException | RuntimeException e) {
                        failures.add(object.key() + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
                    }
                });
            }
        }
        if (!failures.isEmpty()) {
            List<String> sorted = new ArrayList<>(failures);
            sorted.sort(null);
            throw new ChannelException(plan.channel(), sorted.size() + " of " + plan.objects().size()
                    + " object(s) could not be staged; the first: " + sorted.getFirst());
        }
        return new ChannelStats(plan.channel(), "File", source, files.get(), bytes.get(),
                Duration.between(start, clock.instant()));
    }
}
