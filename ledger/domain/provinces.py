"""Thailand's 77 provinces by their two-digit codes (the Ministry of Interior's, which LAO codes
carry in their second and third digits): what a person reads instead of a code — จังหวัดกระบี่,
not จังหวัด 81. Fixed reference data, pure."""

from __future__ import annotations

from typing import Final

from ledger.errors import BadInput, NotFound

#: code → (Thai name, English name as the Royal Thai General System writes it).
PROVINCES: Final[dict[str, tuple[str, str]]] = {
    "10": ("กรุงเทพมหานคร", "Bangkok"),
    "11": ("สมุทรปราการ", "Samut Prakan"),
    "12": ("นนทบุรี", "Nonthaburi"),
    "13": ("ปทุมธานี", "Pathum Thani"),
    "14": ("พระนครศรีอยุธยา", "Phra Nakhon Si Ayutthaya"),
    "15": ("อ่างทอง", "Ang Thong"),
    "16": ("ลพบุรี", "Lop Buri"),
    "17": ("สิงห์บุรี", "Sing Buri"),
    "18": ("ชัยนาท", "Chai Nat"),
    "19": ("สระบุรี", "Saraburi"),
    "20": ("ชลบุรี", "Chon Buri"),
    "21": ("ระยอง", "Rayong"),
    "22": ("จันทบุรี", "Chanthaburi"),
    "23": ("ตราด", "Trat"),
    "24": ("ฉะเชิงเทรา", "Chachoengsao"),
    "25": ("ปราจีนบุรี", "Prachin Buri"),
    "26": ("นครนายก", "Nakhon Nayok"),
    "27": ("สระแก้ว", "Sa Kaeo"),
    "30": ("นครราชสีมา", "Nakhon Ratchasima"),
    "31": ("บุรีรัมย์", "Buri Ram"),
    "32": ("สุรินทร์", "Surin"),
    "33": ("ศรีสะเกษ", "Si Sa Ket"),
    "34": ("อุบลราชธานี", "Ubon Ratchathani"),
    "35": ("ยโสธร", "Yasothon"),
    "36": ("ชัยภูมิ", "Chaiyaphum"),
    "37": ("อำนาจเจริญ", "Amnat Charoen"),
    "38": ("บึงกาฬ", "Bueng Kan"),
    "39": ("หนองบัวลำภู", "Nong Bua Lam Phu"),
    "40": ("ขอนแก่น", "Khon Kaen"),
    "41": ("อุดรธานี", "Udon Thani"),
    "42": ("เลย", "Loei"),
    "43": ("หนองคาย", "Nong Khai"),
    "44": ("มหาสารคาม", "Maha Sarakham"),
    "45": ("ร้อยเอ็ด", "Roi Et"),
    "46": ("กาฬสินธุ์", "Kalasin"),
    "47": ("สกลนคร", "Sakon Nakhon"),
    "48": ("นครพนม", "Nakhon Phanom"),
    "49": ("มุกดาหาร", "Mukdahan"),
    "50": ("เชียงใหม่", "Chiang Mai"),
    "51": ("ลำพูน", "Lamphun"),
    "52": ("ลำปาง", "Lampang"),
    "53": ("อุตรดิตถ์", "Uttaradit"),
    "54": ("แพร่", "Phrae"),
    "55": ("น่าน", "Nan"),
    "56": ("พะเยา", "Phayao"),
    "57": ("เชียงราย", "Chiang Rai"),
    "58": ("แม่ฮ่องสอน", "Mae Hong Son"),
    "60": ("นครสวรรค์", "Nakhon Sawan"),
    "61": ("อุทัยธานี", "Uthai Thani"),
    "62": ("กำแพงเพชร", "Kamphaeng Phet"),
    "63": ("ตาก", "Tak"),
    "64": ("สุโขทัย", "Sukhothai"),
    "65": ("พิษณุโลก", "Phitsanulok"),
    "66": ("พิจิตร", "Phichit"),
    "67": ("เพชรบูรณ์", "Phetchabun"),
    "70": ("ราชบุรี", "Ratchaburi"),
    "71": ("กาญจนบุรี", "Kanchanaburi"),
    "72": ("สุพรรณบุรี", "Suphan Buri"),
    "73": ("นครปฐม", "Nakhon Pathom"),
    "74": ("สมุทรสาคร", "Samut Sakhon"),
    "75": ("สมุทรสงคราม", "Samut Songkhram"),
    "76": ("เพชรบุรี", "Phetchaburi"),
    "77": ("ประจวบคีรีขันธ์", "Prachuap Khiri Khan"),
    "80": ("นครศรีธรรมราช", "Nakhon Si Thammarat"),
    "81": ("กระบี่", "Krabi"),
    "82": ("พังงา", "Phangnga"),
    "83": ("ภูเก็ต", "Phuket"),
    "84": ("สุราษฎร์ธานี", "Surat Thani"),
    "85": ("ระนอง", "Ranong"),
    "86": ("ชุมพร", "Chumphon"),
    "90": ("สงขลา", "Songkhla"),
    "91": ("สตูล", "Satun"),
    "92": ("ตรัง", "Trang"),
    "93": ("พัทลุง", "Phatthalung"),
    "94": ("ปัตตานี", "Pattani"),
    "95": ("ยะลา", "Yala"),
    "96": ("นราธิวาส", "Narathiwat"),
}


def province_name(code: str, lang: str) -> str | None:
    """province_name is the province's name in `lang` (Thai for "th", else English), or None for a
    code that is no province."""
    found = PROVINCES.get(code)
    if found is None:
        return None
    return found[0] if lang == "th" else found[1]


def parse_province_code(text: str | None) -> str | None:
    """parse_province_code reads a province code: one of the 77 (None when absent or empty);
    BadInput when not two digits, NotFound when no province has it."""
    if not text:
        return None
    if not (len(text) == 2 and text.isascii() and text.isdigit()):
        raise BadInput(f"province {text[:40]!r} is not a 2-digit province code", field="province")
    if text not in PROVINCES:
        raise NotFound(f"no province has the code {text} (10 Bangkok … 96 Narathiwat)", field="province")
    return text
