"""Write the small import sample files of this folder (run once; the files are committed).

    python tests/data/import/make_files.py

Each file's content is spelled out here so tests can state expected row numbers by reading this script.
Good files load in order members_good -> transactions_* / complaints_good / surveys_good / care_good.
Bad files hold exactly one problem each (see README.md).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

TEXT_FILES: dict[str, tuple[str, str]] = {
    # name: (encoding, content)
    "members_good.csv": (
        "utf-8",
        "member_id,name,phone,birthday,gender,join_date,home_store,channel,referred_by\n"
        "M001,Alice Wang,13800000001,1985-04-12,F,2022-01-05,S1,counter,\n"
        "M002,Bob Li,13800000002,1979/11/3,male,2022/2/10,S2,app,M001\n"
        "M003,Chen Jing,,19900215,女,20220301,S1,,M005\n"
        "M004,Dong Wei,13800000004,,U,2022-03-15 00:00:00,S2,event,M002\n"
        "M005,Eva Zhou,13800000005,1992年6月1日,F,2022年1月20日,S1,referral,M001\n",
    ),
    "members_bom.csv": (
        "utf-8-sig",
        "会员编号,姓名,手机号,生日,性别,入会日期,门店,推荐人\n"
        "M101,张伟,13900000101,1980-01-01,男,2023-05-01,S1,\n"
        "M102,李娜,13900000102,1988/8/8,女,2023/5/2,S2,M101\n",
    ),
    "members_gbk.txt": (
        "gbk",
        "卡号\t姓名\t性别\t入会日期\t渠道\n"
        "M201\t王芳\t女\t2023年7月1日\t门店\n"
        "M202\t刘洋\t男\t2023-07-02\t小程序\n"
        "M203\t陈静\t未知\t20230703\t\n",
    ),
    "transactions_good.csv": (
        "utf-8",
        "txn_id,member_id,ts,store,category,quantity,amount,gross_margin,discount,is_return\n"
        'T0001,M001,2024-03-05 10:15:00,S1,apparel,2,"1,299.00",400.00,50.00,0\n'
        "T0002,M002,2024/3/6 14:30,S2,food,1,¥88.50,20.5,0,no\n"
        "T0003,M001,20240307,S1,apparel,1,299.00,-10.00,,yes\n"
        "T0004,M003,2024年3月8日,S1,beauty,,560,150,20,N\n"
        "T0005,M005,2024-03-09T09:00:00,S2,food,3,45.20,10,0,\n",
    ),
    "transactions_gbk.csv": (
        "gbk",
        "会员号,交易时间,消费金额,毛利,折扣,退货,门店,品类\n"
        "M001,2024-04-01 10:00,100.00,30,0,否,一号店,服装\n"
        "M001,2024-04-01 10:00,100.00,30,0,否,一号店,服装\n"
        'M002,2024-04-02 11:00,"1,000.00",200,10,是,二号店,食品\n'
        "M004,2024/4/3,50,10,0,否,一号店,美妆\n",
    ),
    "transactions_semicolon.csv": (
        "utf-8",
        "Member ID;Date;Amount;Store\n"
        "M001;2024-05-01;10.00;S1\n"
        "M002;2024-05-02;20.00;S2\n",
    ),
    "complaints_good.csv": (
        "utf-8-sig",
        "投诉编号,会员号,投诉日期,投诉类别,严重程度,解决日期,处理结果,补偿金额\n"
        "C001,M001,2024-03-10,商品,轻微,2024-03-12,退换货,50\n"
        "C002,M002,2024-03-11,服务,严重,,,\n"
        ",M003,2024-03-12,service,2,2024-03-20,apology,0\n",
    ),
    "surveys_good.csv": (
        "utf-8",
        "member_id,survey_date,expectation,pq_1,商品种类齐全、新颖,ss_1,ci_1,ss_parking,企业形象_社会责任\n"
        "M001,2024-03-15,6,7,6,5,6,4,5\n"
        "M002,2024-03-16,,5,,4,5,,3\n"
        "M003,2024-03-16,5,3,3,3,3,3,\n",
    ),
    "care_good.csv": (
        "utf-8",
        "会员号,关怀日期,关怀方式,费用,活动编号\n"
        'M001,2024-02-01,生日礼物,"¥1,200.00",CMP-1\n'
        "M002,2024-02-14,短信,0.1,CMP-2\n"
        "M001,2024-02-14,电话问候,0,\n"
        "M005,2024/2/20,event_invitation,35,CMP-3\n",
    ),
    # ---- bad files: one problem each
    "bad_date.csv": (
        "utf-8",
        "txn_id,member_id,ts,amount\nB1,M001,2024-03-01,10\nB2,M001,2024-02-30,10\nB3,M002,2024-03-02,10\n",
    ),
    "bad_number.csv": ("utf-8", "txn_id,member_id,ts,amount\nB1,M001,2024-03-01,12.3.4\nB2,M002,2024-03-02,10\n"),
    "negative_amount.csv": (
        "utf-8",
        "交易号,会员号,交易时间,消费金额\nB1,M001,2024-03-01,10\nB2,M001,2024-03-02,10\nB3,M002,2024-03-03,-5.00\n",
    ),
    "bad_score.csv": ("utf-8", "member_id,survey_date,pq_1,ss_1\nM001,2024-03-01,8,5\nM002,2024-03-01,4,5\n"),
    "unknown_category.csv": (
        "utf-8",
        "complaint_id,member_id,complaint_date,category\nK1,M001,2024-03-01,product\nK2,M002,2024-03-01,parking\n",
    ),
    "unknown_severity.csv": (
        "utf-8",
        "complaint_id,member_id,complaint_date,category,severity\nK1,M001,2024-03-01,product,5\n",
    ),
    "unknown_kind.csv": ("utf-8", "member_id,action_date,kind,cost\nM001,2024-03-01,massage,10\n"),
    "unknown_gender.csv": (
        "utf-8",
        "member_id,join_date,gender\nN1,2024-01-01,F\nN2,2024-01-02,X\n",
    ),
    "unknown_member.csv": (
        "utf-8",
        "txn_id,member_id,ts,amount\nB1,M001,2024-03-01,10\nB2,M999,2024-03-02,10\n",
    ),
    "unknown_referrer.csv": (
        "utf-8",
        "member_id,join_date,referred_by\nN1,2024-01-01,M998\nN2,2024-01-02,M001\nN3,2024-01-03,N4\nN4,2024-01-04,\n",
    ),
    "duplicate_id.csv": (
        "utf-8",
        "txn_id,member_id,ts,amount\nD1,M001,2024-03-01,10\nD2,M001,2024-03-02,10\nD1,M002,2024-03-03,10\n",
    ),
    "missing_value.csv": ("utf-8", "txn_id,member_id,ts,amount\nB1,M001,,10\nB2,M002,2024-03-02,10\n"),
    "empty.csv": ("utf-8", "member_id,join_date\n"),
    "missing_column.csv": ("utf-8", "txn_id,member_id,ts,store\nB1,M001,2024-03-01,S1\n"),
    "no_items.csv": ("utf-8", "member_id,survey_date,comment\nM001,2024-03-01,fine\n"),
    "no_item_answered.csv": ("utf-8", "member_id,survey_date,pq_1,ss_1\nM001,2024-03-01,4,5\nM002,2024-03-01,,\n"),
    "transactions_mixed.csv": (
        "utf-8",
        "txn_id,member_id,ts,amount,store\n"
        "P1,M001,2024-06-01,10.00,S1\n"
        "P2,M002,2024-06-31,20.00,商场一号店\n"
        "P3,M003,2024-06-02,30.00,S1\n"
        "P4,M999,2024-06-03,40.00,S2\n"
        "P5,M004,2024-06-04,50.00,S2\n",
    ),
}

BINARY_FILES: dict[str, bytes] = {
    # Bytes that are neither UTF-8 nor GB18030 (0x80 and 0xFF never start a character in either).
    "unreadable.csv": b"member_id,join_date\nM1,\x80\xff\x80\n",
}


def main() -> None:
    for name, (encoding, content) in TEXT_FILES.items():
        (HERE / name).write_bytes(content.encode(encoding))
    for name, data in BINARY_FILES.items():
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    main()
