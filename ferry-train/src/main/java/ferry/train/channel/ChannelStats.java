package ferry.train.channel;

import java.time.Duration;

/**
 * What a channel delivered on this host.
 *
 * @param channel the channel's name
 * @param inputMode {@code File} or {@code FileSystem}
 * @param source the URI or folder it came from
 * @param files files delivered (for a FileSystem channel: found in the folder, which is not copied)
 * @param bytes bytes delivered (likewise)
 * @param elapsed time spent delivering it before the process started
 */
public record ChannelStats(String channel, String inputMode, String source, long files, long bytes,
        Duration elapsed) {}
