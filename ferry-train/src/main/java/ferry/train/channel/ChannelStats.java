package ferry.train.channel;

import java.time.Duration;

/**
 * What a channel delivered on this host.
 *
 * @param channel the channel's name
 * @param inputMode {@code File}, {@code FastFile} or {@code FileSystem}
 * @param source the URI or folder it came from
 * @param files files delivered (for FileSystem and FastFile channels: offered in the folder, which is not copied)
 * @param bytes bytes delivered (likewise)
 * @param elapsed time spent delivering it before the process started (for FastFile: mounting it)
 * @param bytesFetched for FastFile, the bytes read from the store while mounted (what the cache did not hold);
 *     {@code null} for the other modes
 */
public record ChannelStats(String channel, String inputMode, String source, long files, long bytes,
        Duration elapsed, Long bytesFetched) {
    public ChannelStats(String channel, String inputMode, String source, long files, long bytes, Duration elapsed) {
        this(channel, inputMode, source, files, bytes, elapsed, null);
    }
}
