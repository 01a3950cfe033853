using Actors.HwBackend.Emulation.Handlers;
using Iced.Intel;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// Picks the handler for SSE/SSE2, x87-control, MXCSR and FXSAVE/FXRSTOR instructions, specialised
/// per instruction and operand form (register or memory source, aligned or not), so no handler
/// looks at the Iced instruction when it runs. Returns null for anything it does not implement
/// (SSE3 and later, MMX forms, x87 arithmetic): the caller turns that into #UD, which matches the
/// CPUID this CPU reports (SSE, SSE2, FXSR; no MMX, no SSE3).
/// </summary>
internal static unsafe class SseTranslator
{
    private const int Ps = 0, Pd = 1, Ss = 2, Sd = 3;

    /// <summary>Expects <paramref name="op"/> already filled by the translator (operand kinds, registers, immediate).</summary>
    public static delegate*<Cpu, Op*, int> Select(in Instruction ins, Op* op)
    {
        bool m0 = op->K0 == OperandKind.Memory;
        bool m1 = op->K1 == OperandKind.Memory;
        switch (ins.Code)
        {
            // ---- MOVD / MOVQ ----
            case Code.Movd_xmm_rm32: return m1 ? &SseMove.MovdXM : &SseMove.MovdXR;
            case Code.Movq_xmm_rm64: return m1 ? &SseMove.MovqXM : &SseMove.MovqXR;
            case Code.Movd_rm32_xmm: return m0 ? &SseMove.Store32 : &SseMove.MovdRX;
            case Code.Movq_rm64_xmm: return m0 ? &SseMove.Store64 : &SseMove.MovqRX;
            case Code.Movq_xmm_xmmm64: return m1 ? &SseMove.MovqXM : &SseMove.MovqXX;
            case Code.Movq_xmmm64_xmm: return m0 ? &SseMove.Store64 : &SseMove.MovqXX;

            // ---- 128-bit moves ----
            case Code.Movaps_xmm_xmmm128:
            case Code.Movapd_xmm_xmmm128:
            case Code.Movdqa_xmm_xmmm128:
                return m1 ? &SseMove.Mov128XM<XmmMem> : &SseMove.Mov128XX;
            case Code.Movups_xmm_xmmm128:
            case Code.Movupd_xmm_xmmm128:
            case Code.Movdqu_xmm_xmmm128:
                return m1 ? &SseMove.Mov128XM<XmmMemUnaligned> : &SseMove.Mov128XX;
            case Code.Movaps_xmmm128_xmm:
            case Code.Movapd_xmmm128_xmm:
            case Code.Movdqa_xmmm128_xmm:
                return m0 ? &SseMove.Store128Aligned : &SseMove.Mov128XX;
            case Code.Movups_xmmm128_xmm:
            case Code.Movupd_xmmm128_xmm:
            case Code.Movdqu_xmmm128_xmm:
                return m0 ? &SseMove.Store128 : &SseMove.Mov128XX;
            case Code.Movntps_m128_xmm:
            case Code.Movntpd_m128_xmm:
            case Code.Movntdq_m128_xmm:
                return &SseMove.Store128Aligned;
            case Code.Maskmovdqu_rDI_xmm_xmm:
                // The implicit [seg:rDI] operand is not a ModRM memory operand: describe it for Handler.Ea.
                op->Base = Cpu.RDI;
                op->Index = Cpu.ZeroReg;
                op->Scale = 0;
                op->Disp = 0;
                op->AddrMask = ins.Op0Kind switch
                {
                    OpKind.MemorySegDI => 0xFFFF,
                    OpKind.MemorySegEDI => 0xFFFF_FFFF,
                    _ => ulong.MaxValue,
                };
                op->Seg = Translator.SegmentNumber(ins.MemorySegment);
                return &SseMove.Maskmovdqu;
            case Code.Movnti_m32_r32: return &SseMove.Movnti32;
            case Code.Movnti_m64_r64: return &SseMove.Movnti64;

            // ---- scalar and half moves ----
            case Code.Movss_xmm_xmmm32: return m1 ? &SseMove.MovssXM : &SseMove.MovssXX;
            case Code.Movss_xmmm32_xmm: return m0 ? &SseMove.Store32 : &SseMove.MovssXX;
            case Code.Movsd_xmm_xmmm64: return m1 ? &SseMove.MovqXM : &SseMove.MovsdXX;
            case Code.Movsd_xmmm64_xmm: return m0 ? &SseMove.Store64 : &SseMove.MovsdXX;
            case Code.Movlps_xmm_m64:
            case Code.Movlpd_xmm_m64:
                return &SseMove.LoadLow64;
            case Code.Movhps_xmm_m64:
            case Code.Movhpd_xmm_m64:
                return &SseMove.LoadHigh64;
            case Code.Movlps_m64_xmm:
            case Code.Movlpd_m64_xmm:
                return &SseMove.Store64;
            case Code.Movhps_m64_xmm:
            case Code.Movhpd_m64_xmm:
                return &SseMove.StoreHigh64;
            case Code.Movhlps_xmm_xmm: return &SseMove.Movhlps;
            case Code.Movlhps_xmm_xmm: return &SseMove.Movlhps;

            // ---- masks, word insert/extract ----
            case Code.Movmskps_r32_xmm:
            case Code.Movmskps_r64_xmm:
                return &SseMove.Movmskps;
            case Code.Movmskpd_r32_xmm:
            case Code.Movmskpd_r64_xmm:
                return &SseMove.Movmskpd;
            case Code.Pmovmskb_r32_xmm:
            case Code.Pmovmskb_r64_xmm:
                return &SseMove.Pmovmskb;
            case Code.Pinsrw_xmm_r32m16_imm8:
            case Code.Pinsrw_xmm_r64m16_imm8:
                return m1 ? &SseMove.PinsrwXM : &SseMove.PinsrwXR;
            case Code.Pextrw_r32_xmm_imm8:
            case Code.Pextrw_r64_xmm_imm8:
                return &SseMove.PextrwRX;

            // ---- floating-point arithmetic ----
            case Code.Addps_xmm_xmmm128: return Arith<FAdd>(Ps, m1);
            case Code.Addpd_xmm_xmmm128: return Arith<FAdd>(Pd, m1);
            case Code.Addss_xmm_xmmm32: return Arith<FAdd>(Ss, m1);
            case Code.Addsd_xmm_xmmm64: return Arith<FAdd>(Sd, m1);
            case Code.Subps_xmm_xmmm128: return Arith<FSub>(Ps, m1);
            case Code.Subpd_xmm_xmmm128: return Arith<FSub>(Pd, m1);
            case Code.Subss_xmm_xmmm32: return Arith<FSub>(Ss, m1);
            case Code.Subsd_xmm_xmmm64: return Arith<FSub>(Sd, m1);
            case Code.Mulps_xmm_xmmm128: return Arith<FMul>(Ps, m1);
            case Code.Mulpd_xmm_xmmm128: return Arith<FMul>(Pd, m1);
            case Code.Mulss_xmm_xmmm32: return Arith<FMul>(Ss, m1);
            case Code.Mulsd_xmm_xmmm64: return Arith<FMul>(Sd, m1);
            case Code.Divps_xmm_xmmm128: return Arith<FDiv>(Ps, m1);
            case Code.Divpd_xmm_xmmm128: return Arith<FDiv>(Pd, m1);
            case Code.Divss_xmm_xmmm32: return Arith<FDiv>(Ss, m1);
            case Code.Divsd_xmm_xmmm64: return Arith<FDiv>(Sd, m1);
            case Code.Minps_xmm_xmmm128: return Arith<FMin>(Ps, m1);
            case Code.Minpd_xmm_xmmm128: return Arith<FMin>(Pd, m1);
            case Code.Minss_xmm_xmmm32: return Arith<FMin>(Ss, m1);
            case Code.Minsd_xmm_xmmm64: return Arith<FMin>(Sd, m1);
            case Code.Maxps_xmm_xmmm128: return Arith<FMax>(Ps, m1);
            case Code.Maxpd_xmm_xmmm128: return Arith<FMax>(Pd, m1);
            case Code.Maxss_xmm_xmmm32: return Arith<FMax>(Ss, m1);
            case Code.Maxsd_xmm_xmmm64: return Arith<FMax>(Sd, m1);
            case Code.Sqrtps_xmm_xmmm128: return Arith<FSqrt>(Ps, m1);
            case Code.Sqrtpd_xmm_xmmm128: return Arith<FSqrt>(Pd, m1);
            case Code.Sqrtss_xmm_xmmm32: return Arith<FSqrt>(Ss, m1);
            case Code.Sqrtsd_xmm_xmmm64: return Arith<FSqrt>(Sd, m1);
            case Code.Rcpps_xmm_xmmm128: return Arith<FRcp>(Ps, m1);
            case Code.Rcpss_xmm_xmmm32: return Arith<FRcp>(Ss, m1);
            case Code.Rsqrtps_xmm_xmmm128: return Arith<FRsqrt>(Ps, m1);
            case Code.Rsqrtss_xmm_xmmm32: return Arith<FRsqrt>(Ss, m1);

            // ---- compares ----
            case Code.Cmpps_xmm_xmmm128_imm8: return Compare(Ps, (int)op->Imm & 7, m1);
            case Code.Cmppd_xmm_xmmm128_imm8: return Compare(Pd, (int)op->Imm & 7, m1);
            case Code.Cmpss_xmm_xmmm32_imm8: return Compare(Ss, (int)op->Imm & 7, m1);
            case Code.Cmpsd_xmm_xmmm64_imm8: return Compare(Sd, (int)op->Imm & 7, m1);
            case Code.Comisd_xmm_xmmm64: return m1 ? &SseFp.ComiSd<Yes, XmmMem> : &SseFp.ComiSd<Yes, XmmReg>;
            case Code.Ucomisd_xmm_xmmm64: return m1 ? &SseFp.ComiSd<No, XmmMem> : &SseFp.ComiSd<No, XmmReg>;
            case Code.Comiss_xmm_xmmm32: return m1 ? &SseFp.ComiSs<Yes, XmmMem> : &SseFp.ComiSs<Yes, XmmReg>;
            case Code.Ucomiss_xmm_xmmm32: return m1 ? &SseFp.ComiSs<No, XmmMem> : &SseFp.ComiSs<No, XmmReg>;

            // ---- conversions ----
            case Code.Cvtsi2sd_xmm_rm32: return m1 ? &SseFp.CvtSi2Sd<Mem32> : &SseFp.CvtSi2Sd<Gpr32>;
            case Code.Cvtsi2sd_xmm_rm64: return m1 ? &SseFp.CvtSi2Sd<Mem64> : &SseFp.CvtSi2Sd<Gpr64>;
            case Code.Cvtsi2ss_xmm_rm32: return m1 ? &SseFp.CvtSi2Ss<Mem32> : &SseFp.CvtSi2Ss<Gpr32>;
            case Code.Cvtsi2ss_xmm_rm64: return m1 ? &SseFp.CvtSi2Ss<Mem64> : &SseFp.CvtSi2Ss<Gpr64>;
            case Code.Cvttsd2si_r32_xmmm64: return m1 ? &SseFp.CvtSd2Si<XmmMem, No, Yes> : &SseFp.CvtSd2Si<XmmReg, No, Yes>;
            case Code.Cvttsd2si_r64_xmmm64: return m1 ? &SseFp.CvtSd2Si<XmmMem, Yes, Yes> : &SseFp.CvtSd2Si<XmmReg, Yes, Yes>;
            case Code.Cvtsd2si_r32_xmmm64: return m1 ? &SseFp.CvtSd2Si<XmmMem, No, No> : &SseFp.CvtSd2Si<XmmReg, No, No>;
            case Code.Cvtsd2si_r64_xmmm64: return m1 ? &SseFp.CvtSd2Si<XmmMem, Yes, No> : &SseFp.CvtSd2Si<XmmReg, Yes, No>;
            case Code.Cvttss2si_r32_xmmm32: return m1 ? &SseFp.CvtSs2Si<XmmMem, No, Yes> : &SseFp.CvtSs2Si<XmmReg, No, Yes>;
            case Code.Cvttss2si_r64_xmmm32: return m1 ? &SseFp.CvtSs2Si<XmmMem, Yes, Yes> : &SseFp.CvtSs2Si<XmmReg, Yes, Yes>;
            case Code.Cvtss2si_r32_xmmm32: return m1 ? &SseFp.CvtSs2Si<XmmMem, No, No> : &SseFp.CvtSs2Si<XmmReg, No, No>;
            case Code.Cvtss2si_r64_xmmm32: return m1 ? &SseFp.CvtSs2Si<XmmMem, Yes, No> : &SseFp.CvtSs2Si<XmmReg, Yes, No>;
            case Code.Cvtsd2ss_xmm_xmmm64: return m1 ? &SseFp.CvtSd2Ss<XmmMem> : &SseFp.CvtSd2Ss<XmmReg>;
            case Code.Cvtss2sd_xmm_xmmm32: return m1 ? &SseFp.CvtSs2Sd<XmmMem> : &SseFp.CvtSs2Sd<XmmReg>;
            case Code.Cvtdq2pd_xmm_xmmm64: return m1 ? &SseFp.CvtDq2Pd<XmmMem> : &SseFp.CvtDq2Pd<XmmReg>;
            case Code.Cvtdq2ps_xmm_xmmm128: return m1 ? &SseFp.CvtDq2Ps<XmmMem> : &SseFp.CvtDq2Ps<XmmReg>;
            case Code.Cvtps2dq_xmm_xmmm128: return m1 ? &SseFp.CvtPs2Dq<XmmMem, No> : &SseFp.CvtPs2Dq<XmmReg, No>;
            case Code.Cvttps2dq_xmm_xmmm128: return m1 ? &SseFp.CvtPs2Dq<XmmMem, Yes> : &SseFp.CvtPs2Dq<XmmReg, Yes>;
            case Code.Cvtpd2dq_xmm_xmmm128: return m1 ? &SseFp.CvtPd2Dq<XmmMem, No> : &SseFp.CvtPd2Dq<XmmReg, No>;
            case Code.Cvttpd2dq_xmm_xmmm128: return m1 ? &SseFp.CvtPd2Dq<XmmMem, Yes> : &SseFp.CvtPd2Dq<XmmReg, Yes>;
            case Code.Cvtps2pd_xmm_xmmm64: return m1 ? &SseFp.CvtPs2Pd<XmmMem> : &SseFp.CvtPs2Pd<XmmReg>;
            case Code.Cvtpd2ps_xmm_xmmm128: return m1 ? &SseFp.CvtPd2Ps<XmmMem> : &SseFp.CvtPd2Ps<XmmReg>;

            // ---- bitwise (the PS/PD forms are the same bit operation) ----
            case Code.Andps_xmm_xmmm128:
            case Code.Andpd_xmm_xmmm128:
            case Code.Pand_xmm_xmmm128:
                return Vec<VAnd>(m1);
            case Code.Andnps_xmm_xmmm128:
            case Code.Andnpd_xmm_xmmm128:
            case Code.Pandn_xmm_xmmm128:
                return Vec<VAndNot>(m1);
            case Code.Orps_xmm_xmmm128:
            case Code.Orpd_xmm_xmmm128:
            case Code.Por_xmm_xmmm128:
                return Vec<VOr>(m1);
            case Code.Xorps_xmm_xmmm128:
            case Code.Xorpd_xmm_xmmm128:
            case Code.Pxor_xmm_xmmm128:
                return Vec<VXor>(m1);

            // ---- packed integer arithmetic ----
            case Code.Paddb_xmm_xmmm128: return Vec<PAddB>(m1);
            case Code.Paddw_xmm_xmmm128: return Vec<PAddW>(m1);
            case Code.Paddd_xmm_xmmm128: return Vec<PAddD>(m1);
            case Code.Paddq_xmm_xmmm128: return Vec<PAddQ>(m1);
            case Code.Psubb_xmm_xmmm128: return Vec<PSubB>(m1);
            case Code.Psubw_xmm_xmmm128: return Vec<PSubW>(m1);
            case Code.Psubd_xmm_xmmm128: return Vec<PSubD>(m1);
            case Code.Psubq_xmm_xmmm128: return Vec<PSubQ>(m1);
            case Code.Paddsb_xmm_xmmm128: return Vec<PAddSB>(m1);
            case Code.Paddsw_xmm_xmmm128: return Vec<PAddSW>(m1);
            case Code.Paddusb_xmm_xmmm128: return Vec<PAddUSB>(m1);
            case Code.Paddusw_xmm_xmmm128: return Vec<PAddUSW>(m1);
            case Code.Psubsb_xmm_xmmm128: return Vec<PSubSB>(m1);
            case Code.Psubsw_xmm_xmmm128: return Vec<PSubSW>(m1);
            case Code.Psubusb_xmm_xmmm128: return Vec<PSubUSB>(m1);
            case Code.Psubusw_xmm_xmmm128: return Vec<PSubUSW>(m1);
            case Code.Pcmpeqb_xmm_xmmm128: return Vec<PCmpEqB>(m1);
            case Code.Pcmpeqw_xmm_xmmm128: return Vec<PCmpEqW>(m1);
            case Code.Pcmpeqd_xmm_xmmm128: return Vec<PCmpEqD>(m1);
            case Code.Pcmpgtb_xmm_xmmm128: return Vec<PCmpGtB>(m1);
            case Code.Pcmpgtw_xmm_xmmm128: return Vec<PCmpGtW>(m1);
            case Code.Pcmpgtd_xmm_xmmm128: return Vec<PCmpGtD>(m1);
            case Code.Pminub_xmm_xmmm128: return Vec<PMinUB>(m1);
            case Code.Pmaxub_xmm_xmmm128: return Vec<PMaxUB>(m1);
            case Code.Pminsw_xmm_xmmm128: return Vec<PMinSW>(m1);
            case Code.Pmaxsw_xmm_xmmm128: return Vec<PMaxSW>(m1);
            case Code.Pavgb_xmm_xmmm128: return Vec<PAvgB>(m1);
            case Code.Pavgw_xmm_xmmm128: return Vec<PAvgW>(m1);
            case Code.Psadbw_xmm_xmmm128: return Vec<PSadBW>(m1);
            case Code.Pmullw_xmm_xmmm128: return Vec<PMulLW>(m1);
            case Code.Pmulhw_xmm_xmmm128: return Vec<PMulHW>(m1);
            case Code.Pmulhuw_xmm_xmmm128: return Vec<PMulHUW>(m1);
            case Code.Pmuludq_xmm_xmmm128: return Vec<PMulUDQ>(m1);
            case Code.Pmaddwd_xmm_xmmm128: return Vec<PMAddWD>(m1);

            // ---- pack / unpack ----
            case Code.Packsswb_xmm_xmmm128: return Vec<PackSSWB>(m1);
            case Code.Packssdw_xmm_xmmm128: return Vec<PackSSDW>(m1);
            case Code.Packuswb_xmm_xmmm128: return Vec<PackUSWB>(m1);
            case Code.Punpcklbw_xmm_xmmm128: return Vec<PUnpckLBW>(m1);
            case Code.Punpckhbw_xmm_xmmm128: return Vec<PUnpckHBW>(m1);
            case Code.Punpcklwd_xmm_xmmm128: return Vec<PUnpckLWD>(m1);
            case Code.Punpckhwd_xmm_xmmm128: return Vec<PUnpckHWD>(m1);
            case Code.Punpckldq_xmm_xmmm128:
            case Code.Unpcklps_xmm_xmmm128:
                return Vec<PUnpckLDQ>(m1);
            case Code.Punpckhdq_xmm_xmmm128:
            case Code.Unpckhps_xmm_xmmm128:
                return Vec<PUnpckHDQ>(m1);
            case Code.Punpcklqdq_xmm_xmmm128:
            case Code.Unpcklpd_xmm_xmmm128:
                return Vec<PUnpckLQDQ>(m1);
            case Code.Punpckhqdq_xmm_xmmm128:
            case Code.Unpckhpd_xmm_xmmm128:
                return Vec<PUnpckHQDQ>(m1);

            // ---- shuffles ----
            case Code.Pshufd_xmm_xmmm128_imm8: return VecImm<PShufD>(m1);
            case Code.Pshuflw_xmm_xmmm128_imm8: return VecImm<PShufLW>(m1);
            case Code.Pshufhw_xmm_xmmm128_imm8: return VecImm<PShufHW>(m1);
            case Code.Shufps_xmm_xmmm128_imm8: return VecImm<ShufPS>(m1);
            case Code.Shufpd_xmm_xmmm128_imm8: return VecImm<ShufPD>(m1);

            // ---- shifts ----
            case Code.Psllw_xmm_imm8: return &SseInt.ShiftImm<PSllW>;
            case Code.Pslld_xmm_imm8: return &SseInt.ShiftImm<PSllD>;
            case Code.Psllq_xmm_imm8: return &SseInt.ShiftImm<PSllQ>;
            case Code.Psrlw_xmm_imm8: return &SseInt.ShiftImm<PSrlW>;
            case Code.Psrld_xmm_imm8: return &SseInt.ShiftImm<PSrlD>;
            case Code.Psrlq_xmm_imm8: return &SseInt.ShiftImm<PSrlQ>;
            case Code.Psraw_xmm_imm8: return &SseInt.ShiftImm<PSraW>;
            case Code.Psrad_xmm_imm8: return &SseInt.ShiftImm<PSraD>;
            case Code.Pslldq_xmm_imm8: return &SseInt.ShiftImm<PSllDQ>;
            case Code.Psrldq_xmm_imm8: return &SseInt.ShiftImm<PSrlDQ>;
            case Code.Psllw_xmm_xmmm128: return Shift<PSllW>(m1);
            case Code.Pslld_xmm_xmmm128: return Shift<PSllD>(m1);
            case Code.Psllq_xmm_xmmm128: return Shift<PSllQ>(m1);
            case Code.Psrlw_xmm_xmmm128: return Shift<PSrlW>(m1);
            case Code.Psrld_xmm_xmmm128: return Shift<PSrlD>(m1);
            case Code.Psrlq_xmm_xmmm128: return Shift<PSrlQ>(m1);
            case Code.Psraw_xmm_xmmm128: return Shift<PSraW>(m1);
            case Code.Psrad_xmm_xmmm128: return Shift<PSraD>(m1);

            // ---- state ----
            case Code.Ldmxcsr_m32: return &SseState.Ldmxcsr;
            case Code.Stmxcsr_m32: return &SseState.Stmxcsr;
            case Code.Fxsave_m512byte:
            case Code.Fxsave64_m512byte:
                return &SseState.Fxsave;
            case Code.Fxrstor_m512byte:
            case Code.Fxrstor64_m512byte:
                return &SseState.Fxrstor;

            // ---- x87 control ----
            case Code.Fninit: return &X87Handlers.Fninit;
            case Code.Fnstsw_m2byte: return &X87Handlers.FnstswM;
            case Code.Fnstsw_AX: return &X87Handlers.FnstswAx;
            case Code.Fnstcw_m2byte: return &X87Handlers.Fnstcw;
            case Code.Fldcw_m2byte: return &X87Handlers.Fldcw;
            case Code.Fnclex: return &X87Handlers.Fnclex;
            case Code.Wait: return &X87Handlers.Fwait;
        }
        return null;
    }

    private static delegate*<Cpu, Op*, int> Arith<TOp>(int shape, bool mem) where TOp : IFpOp => shape switch
    {
        Ps => mem ? &SseFp.Ps<TOp, XmmMem> : &SseFp.Ps<TOp, XmmReg>,
        Pd => mem ? &SseFp.Pd<TOp, XmmMem> : &SseFp.Pd<TOp, XmmReg>,
        Ss => mem ? &SseFp.Ss<TOp, XmmMem> : &SseFp.Ss<TOp, XmmReg>,
        _ => mem ? &SseFp.Sd<TOp, XmmMem> : &SseFp.Sd<TOp, XmmReg>,
    };

    private static delegate*<Cpu, Op*, int> Compare(int shape, int predicate, bool mem) => predicate switch
    {
        0 => Compare<CmpEq>(shape, mem),
        1 => Compare<CmpLt>(shape, mem),
        2 => Compare<CmpLe>(shape, mem),
        3 => Compare<CmpUnord>(shape, mem),
        4 => Compare<CmpNeq>(shape, mem),
        5 => Compare<CmpNlt>(shape, mem),
        6 => Compare<CmpNle>(shape, mem),
        _ => Compare<CmpOrd>(shape, mem),
    };

    private static delegate*<Cpu, Op*, int> Compare<TP>(int shape, bool mem) where TP : ICmpPredicate => shape switch
    {
        Ps => mem ? &SseFp.CmpPs<TP, XmmMem> : &SseFp.CmpPs<TP, XmmReg>,
        Pd => mem ? &SseFp.CmpPd<TP, XmmMem> : &SseFp.CmpPd<TP, XmmReg>,
        Ss => mem ? &SseFp.CmpSs<TP, XmmMem> : &SseFp.CmpSs<TP, XmmReg>,
        _ => mem ? &SseFp.CmpSd<TP, XmmMem> : &SseFp.CmpSd<TP, XmmReg>,
    };

    private static delegate*<Cpu, Op*, int> Vec<TOp>(bool mem) where TOp : IVectorOp =>
        mem ? &SseInt.Binary<TOp, XmmMem> : &SseInt.Binary<TOp, XmmReg>;

    private static delegate*<Cpu, Op*, int> VecImm<TOp>(bool mem) where TOp : IVectorImmOp =>
        mem ? &SseInt.BinaryImm<TOp, XmmMem> : &SseInt.BinaryImm<TOp, XmmReg>;

    private static delegate*<Cpu, Op*, int> Shift<TOp>(bool mem) where TOp : IShiftOp =>
        mem ? &SseInt.ShiftBy<TOp, XmmMem> : &SseInt.ShiftBy<TOp, XmmReg>;
}
