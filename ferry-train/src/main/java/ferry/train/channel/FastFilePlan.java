package ferry.train.channel;

import ferry.dataset.Manifest;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectListing;
import ferry.store.ObjectStore;
import ferry.store.Stores;
import ferry.transfer.SafeKeys;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What a FastFile channel will mount, decided before the job starts.
 *
 * <ul>
 *   <li>Which objects a prefix holds, and their names, are decided by {@link PrefixScope}, as in File mode.
 *   <li>A FullyReplicated S3Prefix read as a folder is mounted live ({@link #prefix}): nothing is listed up front
 *       beyond a request or two that show the prefix holds something, so a job on a large prefix starts at once.
 *   <li>ShardedByS3Key lists the prefix and deals this host its share exactly as File mode does (the same
 *       {@link Sharding} over the same keys), then mounts that share alone from a manifest built in memory.
 *   <li>Any other S3Prefix (one that keys start with, or the URI of one object) is listed and mounted from a manifest
 *       whose base is the URI's parent folder, with the names File mode stages.
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
        PrefixScope scope = PrefixScope.of(channel.name(), uri, store);
        if (scope.folder() && source.distribution() == S3Source.Distribution.FullyReplicated) {
            if (!store.list(scope.listed()).hasNext()) {
                throw noObjects(channel.name(), scope.listed());
            }
            return new FastFilePlan(channel.name(), uri, scope.listed(), null, -1);
        }
        List<Manifest.Entry> all = new ArrayList<>();
        ObjectListing listing = store.list(scope.listed());
        while (listing.hasNext()) {
            ObjectInfo info = listing.next();
            String key = scope.base().relativize(info.location());
            SafeKeys.checkSyntax(key); // as File mode refuses it: no name in the mount may lead out of it
            all.add(entry(key, info));
        }
        if (all.isEmpty()) {
            throw noObjects(channel.name(), scope.listed());
        }
        all.sort(Comparator.comparing(Manifest.Entry::key)); // File mode's order, whatever the store's
        List<Manifest.Entry> share = source.distribution() == S3Source.Distribution.ShardedByS3Key
                ? new ArrayList<>(Sharding.share(all, hostIndex, hostCount, channel.shuffleSeed(), 0))
                : all;
        share.sort(Comparator.comparing(Manifest.Entry::key));
        return new FastFilePlan(channel.name(), uri, null, manifest(channel.name(), scope.base().toString(), share),
                all.size());
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
