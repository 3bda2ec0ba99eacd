package ferry.store;

/**
 * An entry a listing passed over because it is not an object: in a local folder, a symbolic link to a folder (unless
 * links are followed, so that a loop or a link out of the tree is not walked by surprise), a broken link, a named
 * pipe, a socket or a device. An object store holds objects only.
 *
 * @param key its name below the listed prefix, as an object there would have
 * @param what what it is, such as "a named pipe", or {@link #FOLDER_LINK}
 */
public record PassedOver(String key, String what) {
    /** What a symbolic link to a folder is, in a listing that does not follow links. */
    public static final String FOLDER_LINK = "a symbolic link to a folder, not followed";
}
