// Reads a file outside its folder through a text import.
import secret from "../shared/secret.txt" with { type: "text" };

export default secret;
