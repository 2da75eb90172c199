#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| vault_fuzz::canister::put_chunk_arg(data));
