package ferry.train.channel;

import ferry.store.Location;
import java.util.List;
import java.util.Objects;

/**
 * {@code DataSource.S3DataSource}: objects in any store (the name is SageMaker's; {@code file://} locations work
 * alike).
 *
 * @param uri the prefix, the manifest file or the augmented manifest file
 * @param dataType how {@code uri} is read
 * @param distribution how objects are shared between hosts
 * @param attributeNames for an augmented manifest, the fields delivered, in order; empty otherwise
 */
public record S3Source(Location uri, DataType dataType, Distribution distribution, List<String> attributeNames)
        implements ChannelSpec.Source {
    public S3Source {
        Objects.requireNonNull(uri, "uri is null");
        Objects.requireNonNull(dataType, "dataType is null");
        Objects.requireNonNull(distribution, "distribution is null");
        attributeNames = List.copyOf(attributeNames);
    }

    /** {@code S3DataType}. */
    public enum DataType {
        S3Prefix,
        ManifestFile,
        AugmentedManifestFile
    }

    /** {@code S3DataDistributionType}. */
    public enum Distribution {
        FullyReplicated,
        ShardedByS3Key
    }
}
