/** promenade-server binary entry. */
export {};
