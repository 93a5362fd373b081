export declare const ALLOWED_FEATURES: Readonly<Record<string, boolean>>;
