package ferry.train.channel;

import java.util.Objects;

/**
 * One channel of a training request, as read and checked from {@code InputDataConfig[]}.
 *
 * @param name the channel's name ({@code train}); its folder is {@code input/data/<name>}
 * @param inputMode {@code File} for S3 sources, {@code File} or {@code FileSystem} for a file-system source (a
 *     file-system source is always used in place, whatever the mode says)
 * @param contentType the MIME type given, or {@code null}
 * @param compressionType {@code None} (File mode has no decompression)
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

    /** True when the channel is copied to local disk before the process starts. */
    public boolean isStaged() {
        return source instanceof S3Source;
    }

    /** Where a channel's data comes from. */
    public sealed interface Source permits S3Source, FileSystemSource {}
}
