package ferry.store;

import java.io.IOException;
import java.io.InputStream;

/**
 * The bytes of one object as they arrive, with what the store said about the object when the read began. A copy
 * can then check the bytes against the CRC32C the object carries without asking the store a second time.
 */
public abstract class ObjectInputStream extends InputStream {
    /** The whole object being read (its full size and version, also when only a range is read). */
    public abstract ObjectInfo info() throws IOException;
}
