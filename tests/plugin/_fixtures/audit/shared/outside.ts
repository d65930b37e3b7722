// Outside every plugin folder: importing it is an escape.
export const outside = "outside";
