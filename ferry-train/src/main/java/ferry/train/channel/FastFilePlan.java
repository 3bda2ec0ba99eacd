package ferry.train.channel;

import ferry.dataset.Manifest;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectListing;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectStore;
import ferry.store.Stores;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What a FastFile channel will mount, decided before the job starts.
 *
 * <ul>
 *   <li>A FullyReplicated S3Prefix is mounted live ({@link #prefix}): nothing is listed up front beyond one request
 *       that shows the prefix holds something, so a job on a large prefix starts at once.
 *   <li>ShardedByS3Key lists the prefix and deals this host its share exactly as File mode does (the same
 *       {@link Sharding} over the same keys), then mounts that share alone from a manifest built in memory.
 *   <li>An S3Uri without a trailing {@code /} that names one object mounts that object alone, as File mode stages it.
 * </ul>
 *
 * @param channel the channel's name
 * @param source the S3Uri as given
 * @param prefix the prefix to mount live, or {@code null} when {@code manifest} is set
 * @param manifest the objects to mount, fixed at the start, or {@code null} when {@code prefix} is set
 * @param totalItems objects in the source across every host, or -1 when not listed (a live prefix)
 */
public record FastFilePlan(String channel, Location source, Location prefix, Manifest manifest, long totalItems) {
    public FastFilePlan {
        if ((prefix == null) == (manifest == null)) {
            throw new IllegalArgumentException("a FastFile plan mounts a prefix or a manifest, not both: " + channel);
        }
    }

    /**
     * Checks the channel's source and decides what to mount.
     *
     * @param hostIndex this host's place in the host list, from 0
     */
    public static FastFilePlan of(ChannelSpec channel, Stores stores, int hostIndex, int hostCount)
            throws IOException {
        S3Source source = (S3Source) channel.source();
        if (source.dataType() != S3Source.DataType.S3Prefix) {
            throw new ChannelException(channel.name(), "FastFile mounts an S3Prefix only, not a " + source.dataType()
                    + ": use InputMode File for a manifest");
        }
        ObjectStore store;
        try {
            store = stores.forLocation(source.uri());
        } catch (IllegalArgumentException e) {
            throw new ChannelException(channel.name(), e.getMessage());
        }
        Location uri = source.uri();
        String base = uri.asDirectory().toString();
        List<Manifest.Entry> all = new ArrayList<>();
        if (!uri.isDirectory()) {
            try {
                all.add(entry(uri.name(), store.stat(uri)));
                base = uri.toString().substring(0, uri.toString().length() - uri.name().length());
            } catch (ObjectNotFoundException e) {
                // not one object: a folder or prefix
            }
        }
        Location prefix = uri.asDirectory();
        if (all.isEmpty() && source.distribution() == S3Source.Distribution.FullyReplicated) {
            if (!store.list(prefix).hasNext()) {
                throw noObjects(channel.name(), prefix);
            }
            return new FastFilePlan(channel.name(), uri, prefix, null, -1);
        }
        if (all.isEmpty()) {
            ObjectListing listing = store.list(prefix);
            while (listing.hasNext()) {
                ObjectInfo info = listing.next();
                all.add(entry(prefix.relativize(info.location()), info));
            }
        }
        if (all.isEmpty()) {
            throw noObjects(channel.name(), prefix);
        }
        all.sort(Comparator.comparing(Manifest.Entry::key)); // File mode's order, whatever the store's
        List<Manifest.Entry> share = source.distribution() == S3Source.Distribution.ShardedByS3Key
                ? new ArrayList<>(Sharding.share(all, hostIndex, hostCount, channel.shuffleSeed(), 0))
                : all;
        share.sort(Comparator.comparing(Manifest.Entry::key));
        return new FastFilePlan(channel.name(), uri, null, manifest(channel.name(), base, share), all.size());
    }

    /** The objects this host mounts, or -1 for a live prefix (not listed up front). */
    public long sharedItems() {
        return manifest == null ? -1 : manifest.entries().size();
    }

    private static Manifest.Entry entry(String key, ObjectInfo info) {
        return new Manifest.Entry(key, info.size(), info.crc32c(), null, info.etag(), info.lastModified());
    }

    private static Manifest manifest(String channel, String base, List<Manifest.Entry> entries) {
        long bytes = entries.stream().mapToLong(Manifest.Entry::size).sum();
        // A name the mount can show in its log lines; the manifest lives only in memory for this job.
        return new Manifest(Manifest.FORMAT, "channel-" + channel, 1, base, Instant.now(), null,
                new Manifest.Summary(entries.size(), bytes, List.of()), entries);
    }

    private static ChannelException noObjects(String channel, Location prefix) {
        return new ChannelException(channel, "no objects under " + prefix + ": check S3Uri, or upload the data"
                + " first (ferry cp FOLDER " + prefix + ")");
    }
}
