# -*- coding: utf-8 -*-
# pns-sim fixture: Huawei's Python sample "AXB模式绑定信息修改接口" (AXB modify), copied verbatim from the
# published samples with only the line breaks and indentation restored. When tests/it/samples.rs runs it,
# the only changes are the URL (realUrl), the keys (APP_KEY, APP_SECRET) and the numbers (subscriptionId
# from the bind, callerNum, calleeNum).
import time
import uuid
import hashlib
import base64
import json
import ssl
import urllib.request
import hmac
from hashlib import sha256

# 必填,请参考"开发准备"获取如下数据,替换为实际值
realUrl = 'https://rtcpns.cn-north-1.myhuaweicloud.com/rest/caas/relationnumber/partners/v1.0' #APP接入地址+接口访问URI
APP_KEY = "a1********" #APP_Key
APP_SECRET = "cfc8********" #APP_Secret
subscriptionId = '0167ecc9-bfb6-4eec-b671-a7dab2ba78c' #必填,指定"AXB模式绑定接口"返回的绑定ID进行修改

'''
选填,各参数要求请参考"AXB模式绑定信息修改接口"
'''
callerNum = '+86186****5678' #A号码
calleeNum = '+86186****5679' #B号码
# callDirection = 0 #允许呼叫的方向
# duration = 86400 #绑定关系保持时间,到期后会被系统自动解除绑定关系
# maxDuration = 60 #设置允许单次通话进行的最长时间,通话时间从接通被叫的时刻开始计算
# lastMinVoice = 'lastMinVoice.wav' #设置通话剩余最后一分钟时的提示音
# privateSms = 'true' #设置该绑定关系是否支持短信功能

# callerHintTone = 'callerHintTone.wav' #设置A拨打X号码时的通话前等待音
# calleeHintTone = 'calleeHintTone.wav' #设置B拨打X号码时的通话前等待音
# preVoice = {
#     'callerHintTone': callerHintTone,
#     'calleeHintTone': calleeHintTone
# };

def buildAKSKHeader(appKey, appSecret):
    now = time.strftime('%Y-%m-%dT%H:%M:%SZ') #Created
    nonce = str(uuid.uuid4()).replace('-','') #Nonce
    digist = hmac.new(appSecret.encode(), (nonce + now).encode(), digestmod=sha256).digest()
    digestBase64 = base64.b64encode(digist).decode() #PasswordDigest
    return 'UsernameToken Username="{}",PasswordDigest="{}",Nonce="{}",Created="{}"'.format(appKey, digestBase64, nonce, now);

def main():
    # 请求Body,可按需删除选填参数
    jsonData = json.dumps({
        'subscriptionId':subscriptionId,
        'callerNum':callerNum,
        'calleeNum':calleeNum,
        # 'callDirection':callDirection,
        # 'duration':duration,
        # 'maxDuration':maxDuration,
        # 'lastMinVoice':lastMinVoice,
        # 'privateSms':privateSms,
        # 'preVoice':preVoice
    }).encode('ascii')

    req = urllib.request.Request(url=realUrl, data=jsonData, method='PUT') #请求方法为PUT
    # 请求Headers参数
    req.add_header('Authorization', 'AKSK realm="SDP",profile="UsernameToken",type="Appkey"')
    req.add_header('X-AKSK', buildAKSKHeader(APP_KEY, APP_SECRET))
    req.add_header('Content-Type', 'application/json;charset=UTF-8')

    # 为防止因HTTPS证书认证失败造成API调用失败,需要先忽略证书信任问题
    ssl._create_default_https_context = ssl._create_unverified_context

    try:
        print(jsonData.decode('utf-8')) #打印请求数据
        r = urllib.request.urlopen(req) #发送请求
        print(r.read().decode('utf-8')) #打印响应结果
    except urllib.error.HTTPError as e:
        print(e.code)
        print(e.read().decode('utf-8')) #打印错误信息
    except urllib.error.URLError as e:
        print(e.reason)

if __name__ == '__main__':
    main()
