// A module outside the greedy plugin's folder.
export const secret = "outside";
