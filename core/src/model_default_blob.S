/* The default model's bytes, embedded at build time. */
    .section .rodata
    .balign 64
    .globl gs_default_model_start
    .globl gs_default_model_end
    /* Private to the library, like every symbol not marked GS_API. */
    .hidden gs_default_model_start
    .hidden gs_default_model_end
gs_default_model_start:
    .incbin GS_DEFAULT_MODEL_PATH
gs_default_model_end:
    .byte 0
    .section .note.GNU-stack,"",@progbits
