package ferry.train.channel;

import java.io.IOException;

/** A channel cannot be delivered; the message names the channel, what is wrong and what to do. */
public final class ChannelException extends IOException {
    private final String channel;

    public ChannelException(String channel, String message) {
        this(channel, message, null);
    }

    public ChannelException(String channel, String message, Throwable cause) {
        super("channel '" + channel + "': " + message, cause);
        this.channel = channel;
    }

    public String channel() {
        return channel;
    }
}
