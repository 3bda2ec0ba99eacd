package ferry.train.channel;

import java.util.Objects;

/**
 * One channel of a training request, as read and checked from {@code InputDataConfig[]}.
 *
 * @param name the channel's name ({@code train}); its folder is {@code input/data/<name>}
 * @param inputMode {@code File} (staged) or {@code FastFile} (mounted) for an S3 source; {@code FileSystem} for a
 *     file-system source, which is always used in place
 * @param contentType the MIME type given, or {@code null}
 * @param compressionType {@code None} (File and FastFile modes have no decompression)
 * @param recordWrapperType {@code None} or {@code RecordIO} (passed on to the script in inputdataconfig.json)
 * @param shuffleSeed {@code ShuffleConfig.Seed}, or {@code null} without shuffling
 * @param source where the data comes from
 */
public record ChannelSpec(
        String name,
        String inputMode,
        String contentType,
        String compressionType,
        String recordWrapperType,
        Long shuffleSeed,
        Source source) {
    public ChannelSpec {
        Objects.requireNonNull(name, "name is null");
        Objects.requireNonNull(inputMode, "inputMode is null");
        Objects.requireNonNull(source, "source is null");
    }

    public static final String FILE = "File";
    public static final String FAST_FILE = "FastFile";
    public static final String FILE_SYSTEM = "FileSystem";

    /** True when the channel is copied to local disk before the process starts. */
    public boolean isStaged() {
        return source instanceof S3Source && inputMode.equals(FILE);
    }

    /** True when the channel is mounted (FUSE) for the life of the job and read on demand. */
    public boolean isMounted() {
        return source instanceof S3Source && inputMode.equals(FAST_FILE);
    }

    /**
     * The mode the training toolkit reports in {@code inputdataconfig.json}: {@code FastFile} for a mounted channel,
     * {@code File} otherwise (SageMaker reports a file-system channel as File too).
     */
    public String trainingInputMode() {
        return isMounted() ? FAST_FILE : FILE;
    }

    /** Where a channel's data comes from. */
    public sealed interface Source permits S3Source, FileSystemSource {}
}
